package traffic_test

import (
	"testing"
	"time"

	"github.com/osrun/osrun/lab/appserver"
	"github.com/osrun/osrun/lab/lb"
	"github.com/osrun/osrun/lab/traffic"
)

// farm is the lab in small: application servers behind the balancer, the
// monitor fed by both, and load running through it.
type farm struct {
	apps map[string]*appserver.Server
	lb   *lb.LB
	mon  *traffic.Monitor
	load *traffic.Generator
	down chan lb.Event // the balancer's events that take a member out
}

func newFarm(t *testing.T, mode appserver.DownMode, check time.Duration, names ...string) *farm {
	t.Helper()
	f := &farm{apps: map[string]*appserver.Server{}, mon: traffic.NewMonitor(0), down: make(chan lb.Event, 64)}
	var members []lb.MemberConfig
	for _, n := range names {
		s, err := appserver.Start(appserver.Config{Name: n, Version: "11.30.0", DownMode: mode, Delay: time.Millisecond, OnChange: f.mon.AppState})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		f.apps[n] = s
		members = append(members, lb.MemberConfig{Name: n, Addr: s.Addr(), CheckPath: appserver.PingJava})
	}
	l, err := lb.New(lb.Config{Members: members, CheckInterval: check, Rise: 2, Fall: 3, OnEvent: func(e lb.Event) {
		f.mon.LBEvent(e)
		if !e.To.Up && e.From.Up {
			select {
			case f.down <- e:
			default:
			}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	f.lb = l
	return f
}

func (f *farm) startLoad(t *testing.T, onFailure func(traffic.Failure)) {
	t.Helper()
	g, err := traffic.Start(t.Context(), traffic.Config{URL: f.lb.URL() + "/", Clients: 4, Interval: 2 * time.Millisecond,
		MaxRequests: 20000, MaxDuration: time.Minute, Monitor: f.mon, OnFailure: onFailure})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Stop() })
	f.load = g
}

// until polls the running load's counters, which have no event of their own.
func (f *farm) until(t *testing.T, what string, cond func(r traffic.Report) bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond(f.load.Snapshot()) {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s: %s", what, f.load.Snapshot())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *farm) servedBy(t *testing.T, name string, more int) {
	t.Helper()
	base := f.load.Snapshot().Served[name]
	f.until(t, name+" serving", func(r traffic.Report) bool { return r.Served[name] >= base+more })
}

func (f *farm) sent(t *testing.T, more int) {
	t.Helper()
	base := f.load.Snapshot().Sent
	f.until(t, "more requests", func(r traffic.Report) bool { return r.Sent >= base+more })
}

// The guide's order: drain, wait for the sessions to end, stop, upgrade,
// start, wait for health, enable. Not one request may fail.
func TestDrainedUpgradeFailsNothing(t *testing.T) {
	for _, mode := range []appserver.DownMode{appserver.Refuse, appserver.Unavailable} {
		t.Run(map[appserver.DownMode]string{appserver.Refuse: "refuse", appserver.Unavailable: "503"}[mode], func(t *testing.T) {
			f := newFarm(t, mode, 20*time.Millisecond, "fe01", "fe02")
			f.startLoad(t, nil)
			f.servedBy(t, "fe01", 20)
			for _, name := range []string{"fe01", "fe02"} {
				if err := f.lb.SetAdmin(name, lb.Drain); err != nil {
					t.Fatal(err)
				}
				eventually(t, name+" drained", func() bool { st, _ := f.lb.Member(name); return st.Sessions == 0 })
				app := f.apps[name]
				app.Down()
				f.sent(t, 50)
				app.SetVersion("11.31.0")
				if err := app.Up(); err != nil {
					t.Fatal(err)
				}
				eventually(t, name+" healthy", func() bool { st, _ := f.lb.Member(name); return st.Up && st.Detail == "DRAIN" })
				if err := f.lb.SetAdmin(name, lb.Ready); err != nil {
					t.Fatal(err)
				}
				f.servedBy(t, name, 20)
			}
			r := f.load.Stop()
			if !r.Clean() || r.Served["fe01"] == 0 || r.Served["fe02"] == 0 {
				t.Errorf("drained upgrade:\n%s", r)
			}
			t.Logf("\n%s", r)
		})
	}
}

// Negative control: stopping a front-end the balancer still sends traffic
// to fails requests, and the monitor sees it in rotation while down.
func TestDownInRotationFails(t *testing.T) {
	f := newFarm(t, appserver.Unavailable, 100*time.Millisecond, "fe01", "fe02")
	failed := make(chan traffic.Failure, 1)
	f.startLoad(t, func(fl traffic.Failure) {
		select {
		case failed <- fl:
		default:
		}
	})
	f.servedBy(t, "fe01", 20)
	f.apps["fe01"].Down()
	select {
	case fl := <-failed:
		if fl.Status != 503 || fl.ServedBy != "fe01" {
			t.Errorf("failure %+v, want 503 from fe01", fl)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no request failed while fe01 was down in rotation")
	}
	if e := recv(t, f.down, "fe01 taken out"); e.Member != "fe01" {
		t.Fatalf("the balancer took %s out", e.Member)
	}
	f.servedBy(t, "fe02", 20)
	r := f.load.Stop()
	if r.Clean() || r.Failed == 0 || len(r.Violations) != 1 {
		t.Fatalf("report:\n%s", r)
	}
	if v := r.Violations[0]; v.Member != "fe01" || v.Reason != "down" || v.To.IsZero() {
		t.Errorf("violation %s, want fe01 down, ended when the balancer noticed", v)
	}
	t.Logf("\n%s", r)
}

// With a refusing server the balancer's redispatch hides the refused
// connections from clients; the monitor still records the violation.
func TestRefusedInRotationSeenByMonitor(t *testing.T) {
	f := newFarm(t, appserver.Refuse, 100*time.Millisecond, "fe01", "fe02")
	f.startLoad(t, nil)
	f.servedBy(t, "fe01", 20)
	f.apps["fe01"].Down()
	recv(t, f.down, "fe01 taken out")
	r := f.load.Stop()
	if r.Clean() || len(r.Violations) != 1 || r.Violations[0].Member != "fe01" {
		t.Fatalf("report:\n%s", r)
	}
	t.Logf("\n%s", r)
}

// A broken front-end passes its ping, so the balancer keeps it: requests
// fail with 500 and the violation stays open.
func TestBrokenInRotation(t *testing.T) {
	f := newFarm(t, appserver.Refuse, 20*time.Millisecond, "fe01", "fe02")
	failed := make(chan traffic.Failure, 1)
	f.startLoad(t, func(fl traffic.Failure) {
		select {
		case failed <- fl:
		default:
		}
	})
	f.apps["fe02"].SetBroken(true)
	if fl := recv(t, failed, "a failed request"); fl.Status != 500 || fl.ServedBy != "fe02" {
		t.Errorf("failure %+v, want 500 from fe02", fl)
	}
	r := f.load.Stop()
	if len(r.Violations) != 1 || r.Violations[0].Reason != "broken" || !r.Violations[0].To.IsZero() {
		t.Errorf("report:\n%s", r)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recv bounds a wait on the lab's own events.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(15 * time.Second):
		t.Fatalf("no %s after 15s", what)
	}
	panic("unreachable")
}
