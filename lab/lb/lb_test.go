package lb_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/osrun/osrun/lab/lb"
)

func up(a lb.Admin) lb.State   { return lb.State{Admin: a, Up: true} }
func down(a lb.Admin) lb.State { return lb.State{Admin: a, Up: false} }

func TestRoundRobinOverReadyAndHealthy(t *testing.T) {
	f := newFarm(t, lb.Config{Fall: 2}, "fe01", "fe02", "fe03", "fe04", "fe05")
	f.backends["fe04"].sick.Store(true)
	if err := f.lb.SetAdmin("fe03", lb.Drain); err != nil {
		t.Fatal(err)
	}
	if err := f.lb.SetAdmin("fe05", lb.Maint); err != nil {
		t.Fatal(err)
	}
	f.waitEvent(t, "fe04", down(lb.Ready))
	var got []string
	for range 6 {
		a := get(t, f.lb.URL()+"/")
		if a.err != nil || a.status != 200 || a.body != a.servedBy+"\n" {
			t.Fatalf("GET = %+v", a)
		}
		got = append(got, a.servedBy)
	}
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Errorf("not round-robin: %v", got)
		}
	}
	slices.Sort(got)
	if want := []string{"fe01", "fe01", "fe01", "fe02", "fe02", "fe02"}; !slices.Equal(got, want) {
		t.Errorf("served by %v, want only the ready and healthy fe01 and fe02, evenly", got)
	}
}

func TestNoMemberInRotation(t *testing.T) {
	f := newFarm(t, lb.Config{}, "fe01", "fe02")
	for _, n := range []string{"fe01", "fe02"} {
		if err := f.lb.SetAdmin(n, lb.Drain); err != nil {
			t.Fatal(err)
		}
	}
	a := get(t, f.lb.URL()+"/")
	if a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, "No server is available") || a.servedBy != "" {
		t.Errorf("GET with every member drained = %+v, want HAProxy's 503", a)
	}
}

func TestDrainLetsInFlightFinish(t *testing.T) {
	f := newFarm(t, lb.Config{}, "fe01", "fe02")
	held := make(chan answer, 1)
	go func() { held <- get(t, f.lb.URL()+"/hold?id=1") }()
	on := recv(t, f.entered, "the held request").member
	other := map[string]string{"fe01": "fe02", "fe02": "fe01"}[on]
	if reply := api(t, "tcp", f.lb.APIAddr(), "set server web/"+on+" state drain"); reply != "\n" {
		t.Fatalf("drain: %q", reply)
	}
	_, rows := statRows(t, api(t, "tcp", f.lb.APIAddr(), "show stat web 4 -1"))
	if r := serverRow(t, rows, on); r["scur"] != "1" || r["status"] != "DRAIN" {
		t.Errorf("draining member with a request in flight: scur %s status %s, want 1 DRAIN", r["scur"], r["status"])
	}
	for range 4 {
		if a := get(t, f.lb.URL()+"/"); a.status != 200 || a.servedBy != other {
			t.Errorf("new request during the drain: %+v, want it on %s", a, other)
		}
	}
	f.backends[on].release("1")
	if a := recv(t, held, "the held answer"); a.err != nil || a.status != 200 || a.servedBy != on {
		t.Errorf("the request in flight when the drain began: %+v, want 200 from %s", a, on)
	}
	eventually(t, "scur 0 after the drain", func() bool {
		_, rows := statRows(t, api(t, "tcp", f.lb.APIAddr(), "show stat web 4 -1"))
		return serverRow(t, rows, on)["scur"] == "0"
	})
	if st, _ := f.lb.Member(on); st.Sessions != 0 || st.InRotation() {
		t.Errorf("after the drain: %+v", st)
	}
}

func TestMaintAndShutdownSessions(t *testing.T) {
	f := newFarm(t, lb.Config{}, "fe01", "fe02")
	held := make(chan answer, 1)
	go func() { held <- get(t, f.lb.URL()+"/hold?id=k") }()
	on := recv(t, f.entered, "the held request").member
	// maint does not kill sessions; shutdown sessions does.
	for _, cmd := range []string{"set server web/" + on + " state maint", "shutdown sessions server web/" + on} {
		if reply := api(t, "tcp", f.lb.APIAddr(), cmd); reply != "\n" {
			t.Fatalf("%s: %q", cmd, reply)
		}
	}
	if a := recv(t, held, "the held answer"); a.err == nil {
		t.Errorf("killed session answered %+v, want a cut connection", a)
	}
	eventually(t, "scur 0 after the kill", func() bool {
		st, _ := f.lb.Member(on)
		return st.Sessions == 0
	})
}

func TestRedispatchOnlyRefusedConnections(t *testing.T) {
	tests := []struct {
		name         string
		noRedispatch bool
		breakIt      func(b *backend)
		want         int // status of the request that went to the broken member
		wantServedBy string
	}{
		{"refused is retried elsewhere", false, func(b *backend) { b.srv.Close() }, 200, "fe02"},
		{"refused without redispatch", true, func(b *backend) { b.srv.Close() }, 503, ""},
		{"5xx passes through", false, func(b *backend) { b.fail.Store(500) }, 500, "fe01"},
		{"503 passes through", false, func(b *backend) { b.fail.Store(503) }, 503, "fe01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Slow checks: the balancer must not notice before the request.
			f := newFarm(t, lb.Config{NoRedispatch: tt.noRedispatch, CheckInterval: 1 << 40}, "fe01", "fe02")
			eventually(t, "the first check", func() bool { st, _ := f.lb.Member("fe01"); return st.Detail == "UP" })
			tt.breakIt(f.backends["fe01"])
			// The first request of a fresh balancer goes to the first member.
			a := get(t, f.lb.URL()+"/")
			if a.err != nil || a.status != tt.want || a.servedBy != tt.wantServedBy {
				t.Errorf("GET = %d served by %q (%v), want %d served by %q", a.status, a.servedBy, a.err, tt.want, tt.wantServedBy)
			}
		})
	}
}

func TestHealthFollowsRiseAndFall(t *testing.T) {
	f := newFarm(t, lb.Config{Rise: 2, Fall: 3}, "fe01", "fe02")
	f.waitEvent(t, "fe01", up(lb.Ready))
	eventually(t, "fe01 settled UP", func() bool { st, _ := f.lb.Member("fe01"); return st.Detail == "UP" })
	f.backends["fe01"].sick.Store(true)
	f.waitEvent(t, "fe01", down(lb.Ready))
	if a := get(t, f.lb.URL()+"/"); a.servedBy != "fe02" {
		t.Errorf("request with fe01 down went to %q", a.servedBy)
	}
	f.backends["fe01"].sick.Store(false)
	f.waitEvent(t, "fe01", up(lb.Ready))
	// Leaving maint starts at the lowest "up" health, like HAProxy: "UP 1/3".
	f.backends["fe02"].sick.Store(true)
	for _, cmd := range []string{"disable server web/fe02", "enable server web/fe02"} {
		api(t, "tcp", f.lb.APIAddr(), cmd)
	}
	f.waitEvent(t, "fe02", down(lb.Ready))
}

func TestEvents(t *testing.T) {
	f := newFarm(t, lb.Config{CheckInterval: 1 << 40}, "fe01", "fe02")
	for _, a := range []lb.Admin{lb.Drain, lb.Drain, lb.Maint, lb.Ready} {
		if err := f.lb.SetAdmin("fe01", a); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"fe01: ready/up -> drain/up", "fe01: drain/up -> maint/down", "fe01: maint/down -> ready/up"}
	for _, w := range want {
		e := <-f.events
		if got := strings.SplitN(e.String(), " ", 2)[1]; got != w {
			t.Errorf("event %q, want %q", got, w)
		}
	}
	if err := f.lb.SetAdmin("fe09", lb.Drain); !errors.Is(err, lb.ErrNoSuchMember) {
		t.Errorf("SetAdmin(fe09) = %v", err)
	}
}
