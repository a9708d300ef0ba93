package lb_test

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/osrun/osrun/lab/lb"
	"github.com/osrun/osrun/modules/lbmember/haproxy"
	"github.com/osrun/osrun/modules/lbmember/lbtest"
	"github.com/osrun/osrun/modules/lbmember/member"
)

var holdIDs atomic.Int64

// hold opens a session on the named member. The balancer has no
// use-server rule, so requests go round-robin: those that land elsewhere
// are let go at once, and within one round one lands on name.
func (f *farm) hold(t *testing.T, name string) (release func()) {
	t.Helper()
	for range 2 * len(f.backends) {
		id := strconv.FormatInt(holdIDs.Add(1), 10)
		done := make(chan answer, 1)
		go func() { done <- get(t, f.lb.URL()+"/hold?id="+id) }()
		var on string
		select {
		case e := <-f.entered:
			if e.id != id {
				t.Fatalf("%s entered %s, want %s", e.id, e.member, id)
			}
			on = e.member
		case a := <-done:
			t.Fatalf("hold %s ended before reaching a member: %+v", id, a)
		case <-time.After(10 * time.Second):
			t.Fatalf("hold %s reached no member", id)
		}
		if on != name {
			f.backends[on].release(id)
			<-done
			continue
		}
		var once sync.Once
		return func() {
			once.Do(func() {
				f.backends[name].release(id)
				<-done
			})
		}
	}
	t.Fatalf("no request reached %s", name)
	return nil
}

// The osrun haproxy driver, unchanged, passes the lb_member conformance
// suite against the simulated balancer.
//
// The checks run every 300ms: the driver reads op_state ("show servers
// state") and the status word ("show stat") in two commands, and a check
// landing between them can pair a stale "running" with a fresh "DOWN" (the
// EnableFailingMember case then sees a failing member as healthy). That
// race exists against a real HAProxy too; a slow check schedule makes it
// rare here until the driver reads health from one reply.
func TestHAProxyDriverConforms(t *testing.T) {
	lbtest.Run(t, func(t *testing.T) *lbtest.Harness {
		names := []string{"fe01", "fe02", "fe03"}
		f := newFarm(t, lb.Config{SocketPath: sockPath(t), CheckInterval: 300 * time.Millisecond, Rise: 2, Fall: 2}, names...)
		return &lbtest.Harness{
			Driver:     haproxy.New(haproxy.Config{Network: "unix", Address: f.lb.SocketPath(), Backend: "web"}),
			Members:    names,
			Hold:       f.hold,
			SetHealthy: func(t *testing.T, name string, ok bool) { f.backends[name].sick.Store(!ok) },
		}
	})
}

// The TCP socket speaks the same protocol: one round trip of each kind.
func TestHAProxyDriverOverTCP(t *testing.T) {
	f := newFarm(t, lb.Config{}, "fe01", "fe02")
	eventually(t, "the first checks", func() bool {
		a, _ := f.lb.Member("fe01")
		b, _ := f.lb.Member("fe02")
		return a.Detail == "UP" && b.Detail == "UP"
	})
	d := haproxy.New(haproxy.Config{Network: "tcp", Address: f.lb.APIAddr(), Backend: "web"})
	if err := d.SetState(t.Context(), "fe02", member.Drained); err != nil {
		t.Fatal(err)
	}
	st, err := d.Status(t.Context(), "fe02")
	if err != nil || st.State != member.Drained || st.Detail != "DRAIN" {
		t.Fatalf("Status = %+v, %v; want drained (DRAIN)", st, err)
	}
	if err := d.KillSessions(t.Context(), "fe02"); err != nil {
		t.Fatal(err)
	}
	all, err := d.Members(t.Context())
	if err != nil || len(all) != 2 || all[0].Name != "fe01" || !all[0].InRotation() {
		t.Fatalf("Members = %+v, %v", all, err)
	}
}

func TestHAProxyDriverErrors(t *testing.T) {
	f := newFarm(t, lb.Config{}, "fe01", "fe02")
	for _, tt := range []struct {
		backend, member string
		want            error
	}{
		{"web", "fe09", member.ErrNotFound},
		{"nope", "fe01", haproxy.ErrBackendNotFound},
	} {
		d := haproxy.New(haproxy.Config{Network: "tcp", Address: f.lb.APIAddr(), Backend: tt.backend})
		if err := d.SetState(t.Context(), tt.member, member.Drained); !errorsIs(err, tt.want) {
			t.Errorf("SetState(%s/%s) = %v, want %v", tt.backend, tt.member, err, tt.want)
		}
	}
}
