package traffic

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/osrun/osrun/lab/appserver"
	"github.com/osrun/osrun/lab/lb"
)

// Violation is a stretch of time during which a front-end was in the
// balancer's rotation while its application server was down or broken.
type Violation struct {
	Member string
	// Reason is "down" or "broken".
	Reason string
	From   time.Time
	// To is zero while the violation is still going on.
	To time.Time
}

func (v Violation) String() string {
	end := "still"
	if !v.To.IsZero() {
		end = v.To.Sub(v.From).Round(time.Millisecond).String()
	}
	return fmt.Sprintf("%s %s in rotation while %s (%s)", v.From.Format("15:04:05.000"), v.Member, v.Reason, end)
}

// memberView is what the monitor knows about one front-end.
type memberView struct {
	outOfRotation bool // zero value: in rotation, as the lab's balancer starts
	down, broken  bool
	open          int // index in violations of the open one, -1 when none
}

// Monitor records violations. Every front-end is assumed in rotation and
// healthy until told otherwise, which is how the lab starts; members are
// matched by name (the balancer's server name is the front-end's name).
// Safe for concurrent use.
type Monitor struct {
	limit int

	mu         sync.Mutex
	members    map[string]*memberView
	violations []Violation
	dropped    int
}

// NewMonitor returns a monitor keeping at most limit violations (100 when
// limit is not positive); more are counted.
func NewMonitor(limit int) *Monitor {
	if limit <= 0 {
		limit = 100
	}
	return &Monitor{limit: limit, members: map[string]*memberView{}}
}

func (m *Monitor) viewLocked(name string) *memberView {
	v, ok := m.members[name]
	if !ok {
		v = &memberView{open: -1}
		m.members[name] = v
	}
	return v
}

// Rotation records whether the balancer sends new requests to member.
func (m *Monitor) Rotation(t time.Time, member string, in bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.viewLocked(member)
	v.outOfRotation = !in
	m.updateLocked(t, member, v)
}

// Frontend records the state of member's application server.
func (m *Monitor) Frontend(t time.Time, member string, down, broken bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.viewLocked(member)
	v.down, v.broken = down, broken
	m.updateLocked(t, member, v)
}

// LBEvent adapts Monitor to lb.Config.OnEvent.
func (m *Monitor) LBEvent(e lb.Event) { m.Rotation(e.Time, e.Member, e.To.InRotation()) }

// AppState adapts Monitor to appserver.Config.OnChange.
func (m *Monitor) AppState(s appserver.State) { m.Frontend(s.Time, s.Name, s.Down, s.Broken) }

func (m *Monitor) updateLocked(t time.Time, member string, v *memberView) {
	reason := ""
	if !v.outOfRotation {
		switch {
		case v.down:
			reason = "down"
		case v.broken:
			reason = "broken"
		}
	}
	if v.open >= 0 {
		if m.violations[v.open].Reason == reason {
			return
		}
		m.violations[v.open].To = t
		v.open = -1
	}
	if reason == "" {
		return
	}
	if len(m.violations) >= m.limit {
		m.dropped++
		return
	}
	m.violations = append(m.violations, Violation{Member: member, Reason: reason, From: t})
	v.open = len(m.violations) - 1
}

// Violations returns the violations so far (open ones with a zero To) and
// how many were not kept.
func (m *Monitor) Violations() ([]Violation, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.violations), m.dropped
}

// InRotation is one member's rotation as a balancer reports it.
type InRotation struct {
	Member string
	In     bool
}

// Sample feeds the monitor by polling a balancer every interval until ctx
// is done, for balancers without a change hook (a real HAProxy read through
// osrun's driver). A sample only says where a member was when it was read:
// when one shows a member out of rotation, a violation that began after the
// previous sample is dropped, since the member may have left rotation
// before it began (a drain just before a stop). So sampling misses
// violations shorter than the interval or that close to a change: prefer
// the hooks when there are some. It returns ctx's error, or read's.
func (m *Monitor) Sample(ctx context.Context, every time.Duration, read func(context.Context) ([]InRotation, error)) error {
	t := time.NewTicker(every)
	defer t.Stop()
	var prev time.Time
	failures := 0
	for {
		rot, err := read(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			// A busy machine can miss one read of the runtime API. The next
			// good sample still judges the gap: a violation opened since the
			// last good sample is withdrawn if the member turns out to have
			// been out of rotation. Only a balancer that stays unreadable
			// stops the monitor (and so fails the verdict).
			failures++
			if failures > maxSampleFailures {
				return fmt.Errorf("monitor: read the balancer %d times in a row: %w", failures, err)
			}
		default:
			failures = 0
			now := time.Now()
			for _, r := range rot {
				m.sampled(prev, now, r.Member, r.In)
			}
			prev = now
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// maxSampleFailures is how many reads of the balancer in a row may fail
// before Sample gives up.
const maxSampleFailures = 10

func (m *Monitor) sampled(prev, now time.Time, member string, in bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.viewLocked(member)
	if !in && !v.outOfRotation && v.open >= 0 && m.violations[v.open].From.After(prev) {
		m.violations = slices.Delete(m.violations, v.open, v.open+1)
		for _, other := range m.members {
			if other.open > v.open {
				other.open--
			}
		}
		v.open = -1
	}
	v.outOfRotation = !in
	m.updateLocked(now, member, v)
}
