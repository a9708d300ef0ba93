package lbtest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/osrun/osrun/modules/lbmember/member"
)

// Fake is an in-memory load-balancer pool. It is safe for concurrent use.
// Its knobs imitate what real balancers do slowly: sessions leave a
// drained member a few per read, and an enabled member passes its health
// check only after some reads.
type Fake struct {
	pool string

	mu      sync.Mutex
	order   []string
	members map[string]*fakeMember
	// drainPerRead is how many sessions leave a drained or disabled member
	// each time it is read (0: sessions stay until released or killed).
	drainPerRead int
	// riseReads is how many reads an enabled member needs to turn healthy.
	riseReads int
	failures  map[string]error
	calls     []string
}

type fakeMember struct {
	state    member.State
	sessions int
	healthy  bool
	down     bool // health check forced to fail
	rising   int  // reads left until healthy
}

// NewFake returns a pool whose members are enabled, healthy and idle.
func NewFake(pool string, names ...string) *Fake {
	f := &Fake{pool: pool, members: map[string]*fakeMember{}, failures: map[string]error{}}
	for _, n := range names {
		f.order = append(f.order, n)
		f.members[n] = &fakeMember{state: member.Enabled, healthy: true}
	}
	return f
}

// SetDrainPerRead makes n sessions leave a non-enabled member per read.
func (f *Fake) SetDrainPerRead(n int) { f.mu.Lock(); f.drainPerRead = n; f.mu.Unlock() }

// SetRiseReads makes an enabled member healthy only after n reads.
func (f *Fake) SetRiseReads(n int) { f.mu.Lock(); f.riseReads = n; f.mu.Unlock() }

// Put sets a member's state, sessions and health, adding it if needed.
func (f *Fake) Put(name string, st member.State, sessions int, healthy bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.members[name]
	if !ok {
		m = &fakeMember{}
		f.members[name] = m
		f.order = append(f.order, name)
	}
	// A disabled member has no check result; otherwise healthy is the verdict.
	m.state, m.sessions, m.healthy, m.down, m.rising = st, sessions, healthy, !healthy && st != member.Disabled, 0
}

// FailNext makes the next call of op ("Status", "Members", "SetState",
// "KillSessions") return err.
func (f *Fake) FailNext(op string, err error) { f.mu.Lock(); f.failures[op] = err; f.mu.Unlock() }

// Calls returns the state-changing calls made so far, e.g. "SetState fe03 drained".
func (f *Fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *Fake) fail(op string) error {
	if err, ok := f.failures[op]; ok {
		delete(f.failures, op)
		return err
	}
	return nil
}

// Pool implements the driver interface.
func (f *Fake) Pool() string { return "fake pool " + f.pool }

func (f *Fake) read(name string, m *fakeMember) member.Status {
	if m.state != member.Enabled {
		m.sessions = max(0, m.sessions-f.drainPerRead)
	}
	if m.state != member.Disabled && !m.down && !m.healthy {
		if m.rising > 0 {
			m.rising--
		}
		m.healthy = m.rising == 0
	}
	detail := "UP"
	switch {
	case m.state == member.Disabled:
		detail = "MAINT"
	case !m.healthy:
		detail = "DOWN"
	case m.state == member.Drained:
		detail = "DRAIN"
	}
	return member.Status{Name: name, State: m.state, Sessions: m.sessions, Healthy: m.healthy, Detail: detail}
}

// Members implements the driver interface.
func (f *Fake) Members(ctx context.Context) ([]member.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := f.fail("Members"); err != nil {
		return nil, err
	}
	var out []member.Status
	for _, n := range f.order {
		out = append(out, f.read(n, f.members[n]))
	}
	return out, nil
}

// Status implements the driver interface.
func (f *Fake) Status(ctx context.Context, name string) (member.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return member.Status{}, err
	}
	if err := f.fail("Status"); err != nil {
		return member.Status{}, err
	}
	m, ok := f.members[name]
	if !ok {
		return member.Status{}, fmt.Errorf("%s: %s: %w", f.Pool(), name, member.ErrNotFound)
	}
	return f.read(name, m), nil
}

// SetState implements the driver interface.
func (f *Fake) SetState(ctx context.Context, name string, st member.State) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := f.fail("SetState"); err != nil {
		return err
	}
	if _, err := member.Parse(string(st)); err != nil {
		return fmt.Errorf("%s: set %s: %w", f.Pool(), name, err)
	}
	m, ok := f.members[name]
	if !ok {
		return fmt.Errorf("%s: set %s %s: %w", f.Pool(), name, st, member.ErrNotFound)
	}
	f.calls = append(f.calls, fmt.Sprintf("SetState %s %s", name, st))
	if m.state == member.Disabled && st != member.Disabled {
		// Like HAProxy leaving maint: checks resume from scratch.
		m.healthy, m.rising = false, f.riseReads
		if f.riseReads == 0 && !m.down {
			m.healthy = true
		}
	}
	if st == member.Disabled {
		m.healthy = false
	}
	m.state = st
	return nil
}

// KillSessions implements lbmember.SessionKiller.
func (f *Fake) KillSessions(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := f.fail("KillSessions"); err != nil {
		return err
	}
	m, ok := f.members[name]
	if !ok {
		return fmt.Errorf("%s: kill sessions of %s: %w", f.Pool(), name, member.ErrNotFound)
	}
	f.calls = append(f.calls, "KillSessions "+name)
	m.sessions = 0
	return nil
}

// Hold opens a session on name; the returned func ends it.
func (f *Fake) Hold(name string) (release func()) {
	f.mu.Lock()
	f.members[name].sessions++
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if m := f.members[name]; m.sessions > 0 {
				m.sessions--
			}
		})
	}
}

// SetHealthy makes name's health check pass or fail.
func (f *Fake) SetHealthy(name string, healthy bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.members[name]
	m.down = !healthy
	m.healthy = healthy && m.state != member.Disabled
	m.rising = 0
}

// Harness returns the conformance harness for this fake.
func (f *Fake) Harness() *Harness {
	return &Harness{
		Driver:     f,
		Members:    append([]string(nil), f.order...),
		Hold:       func(t *testing.T, name string) func() { return f.Hold(name) },
		SetHealthy: func(t *testing.T, name string, ok bool) { f.SetHealthy(name, ok) },
	}
}
