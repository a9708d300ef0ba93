package lbtest

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osrun/osrun/modules/lbmember/member"
)

// Driver is what the suite exercises; it matches lbmember.Driver.
type Driver interface {
	Pool() string
	Members(ctx context.Context) ([]member.Status, error)
	Status(ctx context.Context, name string) (member.Status, error)
	SetState(ctx context.Context, name string, st member.State) error
}

// Killer matches lbmember.SessionKiller.
type Killer interface {
	KillSessions(ctx context.Context, name string) error
}

// Harness is one fresh pool and its driver.
type Harness struct {
	Driver Driver
	// Members names at least two members, all enabled, healthy (or about
	// to be, by the balancer's own checks) and idle.
	Members []string
	// Hold opens one session through the balancer to the member and
	// returns a func that ends it. Nil when the harness cannot.
	Hold func(t *testing.T, name string) (release func())
	// SetHealthy makes the member's health check pass or fail. Nil when
	// the harness cannot.
	SetHealthy func(t *testing.T, name string, healthy bool)
	// Timeout bounds every wait for the balancer to converge (default 10s).
	Timeout time.Duration
}

// Run runs the conformance suite; newHarness is called once per case.
func Run(t *testing.T, newHarness func(t *testing.T) *Harness) {
	cases := []struct {
		name string
		fn   func(t *testing.T, h *Harness)
	}{
		{"Members", testMembers},
		{"UnknownMember", testUnknown},
		{"Transitions", testTransitions},
		{"InvalidState", testInvalidState},
		{"EnableWaitsForHealth", testEnableHealth},
		{"Sessions", testSessions},
		{"HealthCheck", testHealthCheck},
		{"EnableFailingMember", testEnableFailing},
		{"KillSessions", testKill},
		{"CancelledContext", testCancelled},
		{"ConcurrentUse", testConcurrent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			if len(h.Members) < 2 {
				t.Fatalf("harness has %d members, the suite needs at least 2", len(h.Members))
			}
			if h.Timeout == 0 {
				h.Timeout = 10 * time.Second
			}
			c.fn(t, h)
		})
	}
}

// eventually polls cond until it holds or h.Timeout passes. Real balancers
// converge on their own clock (health check intervals), so a bounded poll
// is the only way to observe them.
func eventually(t *testing.T, h *Harness, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(h.Timeout)
	var last string
	for {
		ok, seen := cond()
		if ok {
			return
		}
		last = seen
		if time.Now().After(deadline) {
			t.Fatalf("after %s: still waiting for %s; last seen: %s", h.Timeout, what, last)
		}
		tm := time.NewTimer(20 * time.Millisecond)
		select {
		case <-t.Context().Done():
			tm.Stop()
			t.Fatal(t.Context().Err())
		case <-tm.C:
		}
	}
}

func status(t *testing.T, h *Harness, name string) member.Status {
	t.Helper()
	st, err := h.Driver.Status(t.Context(), name)
	if err != nil {
		t.Fatalf("Status(%s): %v", name, err)
	}
	if st.Name != name {
		t.Errorf("Status(%s).Name = %q", name, st.Name)
	}
	return st
}

func waitFor(t *testing.T, h *Harness, name, what string, cond func(member.Status) bool) member.Status {
	t.Helper()
	var st member.Status
	eventually(t, h, name+" "+what, func() (bool, string) {
		st = status(t, h, name)
		return cond(st), describe(st)
	})
	return st
}

func describe(st member.Status) string {
	return string(st.State) + " healthy=" + map[bool]string{true: "yes", false: "no"}[st.Healthy] +
		" sessions=" + strconv.Itoa(st.Sessions) + " (" + st.Detail + ")"
}

func setState(t *testing.T, h *Harness, name string, st member.State) {
	t.Helper()
	if err := h.Driver.SetState(t.Context(), name, st); err != nil {
		t.Fatalf("SetState(%s, %s): %v", name, st, err)
	}
}

func testMembers(t *testing.T, h *Harness) {
	if h.Driver.Pool() == "" {
		t.Error("Pool() is empty; messages need it")
	}
	eventually(t, h, "every member enabled and healthy", func() (bool, string) {
		all, err := h.Driver.Members(t.Context())
		if err != nil {
			t.Fatalf("Members: %v", err)
		}
		var names []string
		ok := true
		seen := ""
		for _, m := range all {
			names = append(names, m.Name)
			if !m.InRotation() || m.Sessions != 0 {
				ok = false
			}
			seen += m.Name + ": " + describe(m) + "; "
		}
		for _, want := range h.Members {
			if !slices.Contains(names, want) {
				t.Fatalf("Members() = %v, want it to include %s", names, want)
			}
		}
		return ok, seen
	})
}

func testUnknown(t *testing.T, h *Harness) {
	const ghost = "no-such-member-x9"
	if _, err := h.Driver.Status(t.Context(), ghost); !errors.Is(err, member.ErrNotFound) {
		t.Errorf("Status(%s) error = %v, want member.ErrNotFound", ghost, err)
	}
	if err := h.Driver.SetState(t.Context(), ghost, member.Drained); !errors.Is(err, member.ErrNotFound) {
		t.Errorf("SetState(%s) error = %v, want member.ErrNotFound", ghost, err)
	}
	if k, ok := h.Driver.(Killer); ok {
		if err := k.KillSessions(t.Context(), ghost); !errors.Is(err, member.ErrNotFound) {
			t.Errorf("KillSessions(%s) error = %v, want member.ErrNotFound", ghost, err)
		}
	}
}

func testTransitions(t *testing.T, h *Harness) {
	name, other := h.Members[0], h.Members[1]
	waitFor(t, h, name, "in rotation", member.Status.InRotation)
	for _, want := range []member.State{member.Drained, member.Disabled, member.Drained, member.Enabled,
		member.Disabled, member.Enabled, member.Enabled} {
		setState(t, h, name, want)
		setState(t, h, name, want) // idempotent
		if st := status(t, h, name); st.State != want {
			t.Fatalf("after SetState(%s): state %s (%s)", want, st.State, st.Detail)
		}
		all, err := h.Driver.Members(t.Context())
		if err != nil {
			t.Fatalf("Members: %v", err)
		}
		for _, m := range all {
			if m.Name == name && m.State != want {
				t.Errorf("Members() shows %s %s, Status showed %s", name, m.State, want)
			}
			if m.Name == other && m.State != member.Enabled {
				t.Errorf("changing %s changed %s to %s", name, other, m.State)
			}
		}
	}
}

func testInvalidState(t *testing.T, h *Harness) {
	if err := h.Driver.SetState(t.Context(), h.Members[0], member.State("bogus")); err == nil {
		t.Error("SetState(bogus) succeeded")
	}
	if st := status(t, h, h.Members[0]); st.State != member.Enabled {
		t.Errorf("after a refused SetState the member is %s", st.State)
	}
}

func testEnableHealth(t *testing.T, h *Harness) {
	name := h.Members[0]
	waitFor(t, h, name, "in rotation", member.Status.InRotation)
	setState(t, h, name, member.Disabled)
	if st := status(t, h, name); st.InRotation() {
		t.Errorf("disabled member reported in rotation: %s", describe(st))
	}
	setState(t, h, name, member.Enabled)
	waitFor(t, h, name, "healthy again", member.Status.InRotation)
}

func testSessions(t *testing.T, h *Harness) {
	if h.Hold == nil {
		t.Skip("harness cannot open sessions")
	}
	name := h.Members[0]
	waitFor(t, h, name, "in rotation", member.Status.InRotation)
	release := h.Hold(t, name)
	defer release()
	waitFor(t, h, name, "counting 1 session", func(s member.Status) bool { return s.Sessions == 1 })
	setState(t, h, name, member.Drained)
	st := status(t, h, name)
	if st.State != member.Drained || st.Sessions != 1 {
		t.Errorf("drained member with a live session: %s, want drained with 1 session", describe(st))
	}
	release()
	waitFor(t, h, name, "drained to 0 sessions", func(s member.Status) bool { return s.Sessions == 0 })
}

func testHealthCheck(t *testing.T, h *Harness) {
	if h.SetHealthy == nil {
		t.Skip("harness cannot fail health checks")
	}
	name := h.Members[1]
	waitFor(t, h, name, "in rotation", member.Status.InRotation)
	h.SetHealthy(t, name, false)
	st := waitFor(t, h, name, "unhealthy", func(s member.Status) bool { return !s.Healthy })
	if st.State != member.Enabled || st.InRotation() {
		t.Errorf("failing member: %s, want enabled and not in rotation", describe(st))
	}
	h.SetHealthy(t, name, true)
	waitFor(t, h, name, "healthy again", member.Status.InRotation)
}

func testKill(t *testing.T, h *Harness) {
	k, ok := h.Driver.(Killer)
	if !ok {
		t.Skip("driver cannot kill sessions")
	}
	if h.Hold == nil {
		t.Skip("harness cannot open sessions")
	}
	name := h.Members[0]
	waitFor(t, h, name, "in rotation", member.Status.InRotation)
	release := h.Hold(t, name)
	defer release()
	waitFor(t, h, name, "counting 1 session", func(s member.Status) bool { return s.Sessions == 1 })
	setState(t, h, name, member.Disabled)
	if err := k.KillSessions(t.Context(), name); err != nil {
		t.Fatalf("KillSessions: %v", err)
	}
	waitFor(t, h, name, "0 sessions after the kill", func(s member.Status) bool { return s.Sessions == 0 })
	if err := k.KillSessions(t.Context(), name); err != nil {
		t.Errorf("second KillSessions: %v", err)
	}
}

// A member enabled while its health check fails must not look healthy, not
// even in the moment before the balancer's first check after the change.
func testEnableFailing(t *testing.T, h *Harness) {
	if h.SetHealthy == nil {
		t.Skip("harness cannot fail health checks")
	}
	name := h.Members[0]
	waitFor(t, h, name, "in rotation", member.Status.InRotation)
	setState(t, h, name, member.Disabled)
	h.SetHealthy(t, name, false)
	setState(t, h, name, member.Enabled)
	for i := range 5 {
		if st := status(t, h, name); st.Healthy {
			t.Fatalf("read %d after enabling a failing member: %s, want unhealthy", i, describe(st))
		}
		tm := time.NewTimer(50 * time.Millisecond)
		<-tm.C
	}
	h.SetHealthy(t, name, true)
	waitFor(t, h, name, "healthy once its check passes", member.Status.InRotation)
}

func testCancelled(t *testing.T, h *Harness) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := h.Driver.Status(ctx, h.Members[0]); !errors.Is(err, context.Canceled) {
		t.Errorf("Status with a cancelled context: %v, want context.Canceled", err)
	}
	if err := h.Driver.SetState(ctx, h.Members[0], member.Drained); !errors.Is(err, context.Canceled) {
		t.Errorf("SetState with a cancelled context: %v, want context.Canceled", err)
	}
	if st := status(t, h, h.Members[0]); st.State != member.Enabled {
		t.Errorf("a cancelled SetState changed the member to %s", st.State)
	}
}

// The module serves several hosts at once from one driver (go test -race
// finds shared state without a lock).
func testConcurrent(t *testing.T, h *Harness) {
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(h.Members))
	for _, name := range h.Members {
		wg.Go(func() {
			for _, st := range []member.State{member.Drained, member.Enabled} {
				if err := h.Driver.SetState(t.Context(), name, st); err != nil {
					errs <- err
				}
			}
			if _, err := h.Driver.Members(t.Context()); err != nil {
				errs <- err
			}
			if _, err := h.Driver.Status(t.Context(), name); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, name := range h.Members {
		if st := status(t, h, name); st.State != member.Enabled {
			t.Errorf("%s ended %s, want enabled", name, st.State)
		}
	}
}

// CountedHold is a Harness.Hold for a fake that keeps a session count per
// member: add(name, 1) opens the session and the release, safe to call
// more than once, calls add(name, -1).
func CountedHold(add func(name string, delta int)) func(t *testing.T, name string) (release func()) {
	return func(t *testing.T, name string) func() {
		add(name, 1)
		var once sync.Once
		return func() { once.Do(func() { add(name, -1) }) }
	}
}

// WantError fails t unless err contains want and, when is is not nil,
// wraps is: the check of a driver's error-table tests.
func WantError(t testing.TB, err error, want string, is error) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) || (is != nil && !errors.Is(err, is)) {
		t.Errorf("error = %v, want %q", err, want)
	}
}
