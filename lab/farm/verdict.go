package farm

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/osrun/osrun/lab/traffic"
)

// Verdict is what the lab saw: the load, every front-end at the end, and
// the lab's own problems.
type Verdict struct {
	Traffic   traffic.Report
	Frontends []FrontendResult
	// Problems are things the lab failed to simulate (an application
	// server that could not come back); they fail the verdict too.
	Problems []string
}

// FrontendResult is one front-end at the end of the run.
type FrontendResult struct {
	Name, Zone, Stack string
	Controller        bool
	// Before and After are the installed platform versions.
	Before, After string
	// Serving is the version the application server reports; Down and
	// Broken its state.
	Serving      string
	Down, Broken bool
	// LB is the balancer's status word ("UP", "DRAIN", "MAINT", ...).
	LB         string
	InRotation bool
	// DeploymentEnabled, DeployerRunning and SC are Service Center's view.
	DeploymentEnabled bool
	DeployerRunning   bool
	SC                string
}

// OK reports whether the upgrade was zero-downtime: no request failed, no
// front-end was in rotation while down or broken, and the lab had no
// problem of its own.
func (v Verdict) OK() bool { return v.Traffic.Clean() && len(v.Problems) == 0 }

// Upgraded reports whether every front-end ends at version, healthy, in
// rotation and with deployment enabled; the front-ends that do not, if any.
func (v Verdict) Upgraded(version string) (bool, []string) {
	var bad []string
	for _, fe := range v.Frontends {
		if fe.After != version || fe.Serving != version || fe.Down || fe.Broken || !fe.InRotation || !fe.DeploymentEnabled || !fe.DeployerRunning {
			bad = append(bad, fe.Name)
		}
	}
	return len(bad) == 0, bad
}

// String is the verdict for people: one line of judgement, the load, then
// one line per front-end.
func (v Verdict) String() string {
	var b strings.Builder
	word := "PASS"
	if !v.OK() {
		word = "FAIL"
	}
	fmt.Fprintf(&b, "lab verdict: %s: %d requests sent, %d failed, %d invariant violations\n",
		word, v.Traffic.Sent, v.Traffic.Failed, len(v.Traffic.Violations)+v.Traffic.DroppedViolations)
	for _, l := range strings.Split(strings.TrimRight(v.Traffic.String(), "\n"), "\n") {
		b.WriteString("  " + l + "\n")
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  front-end\tzone\tstack\tversion before\tafter\tapplication\tload balancer\tservice center")
	for _, fe := range v.Frontends {
		name := fe.Name
		if fe.Controller {
			name += " (controller)"
		}
		app := "serving " + fe.Serving
		switch {
		case fe.Down:
			app = "down"
		case fe.Broken:
			app = "broken (500)"
		}
		rot := "out of rotation"
		if fe.InRotation {
			rot = "in rotation"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s, %s\t%s\n", name, fe.Zone, fe.Stack, fe.Before, fe.After, app, fe.LB, rot, fe.SC)
	}
	tw.Flush()
	for _, p := range v.Problems {
		fmt.Fprintf(&b, "  lab problem: %s\n", p)
	}
	return b.String()
}

// settledMember reads a member's final state from the balancer. A healthy
// application's member can be caught in a health-check transition (HAProxy's
// "UP 1/2" after one slow check on a loaded machine); the end state is what
// it settles to, so the read is repeated for a bounded time while the member
// is in such a transition although its application serves. Admin states
// (MAINT, DRAIN) are reported as they are at once.
func (f *Farm) settledMember(name string, appDown bool) (string, bool) {
	deadline := time.Now().Add(settleTime)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		state, in := f.lb.member(ctx, name)
		cancel()
		// "UP 1/2", "DOWN 1/2": a health check transition, not an admin state.
		transition := strings.Contains(state, "/")
		if in || appDown || !transition || time.Now().After(deadline) {
			return state, in
		}
		time.Sleep(settlePoll)
	}
}

// InRotation reports whether the balancer has the front-end in rotation,
// once a health check under way has settled. Unlike Verdict it stops
// nothing: a test may ask mid-run.
func (f *Farm) InRotation(name string) bool {
	_, in := f.settledMember(name, false)
	return in
}

// settleTime bounds settledMember: many health-check intervals of the lab
// (50ms), far less than a real member that is out would ever come back in.
const (
	settleTime = 3 * time.Second
	settlePoll = 100 * time.Millisecond
)

// Verdict stops the load (waiting for the requests in flight) and reports.
// Later calls return the same verdict.
func (f *Farm) Verdict() Verdict {
	f.mu.Lock()
	if f.verdict != nil {
		v := *f.verdict
		f.mu.Unlock()
		return v
	}
	f.mu.Unlock()
	report := f.load.Stop()
	v := Verdict{Traffic: report}
	for _, fe := range f.fes {
		r := FrontendResult{Name: fe.Name, Zone: fe.Zone, Stack: fe.Stack, Controller: fe.Controller, Before: fe.before, After: fe.Version()}
		st := fe.App.State()
		r.Serving, r.Down, r.Broken = st.Version, st.Down, st.Broken
		r.LB, r.InRotation = f.settledMember(fe.Name, st.Down || st.Broken)
		if s, ok := f.sc.Frontend(fe.Name); ok {
			r.DeploymentEnabled, r.DeployerRunning, r.SC = s.DeploymentEnabled, s.DeployerRunning, s.String()
		}
		v.Frontends = append(v.Frontends, r)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v.Problems = append([]string(nil), f.problems...)
	if f.verdict == nil {
		f.verdict = &v
	}
	return *f.verdict
}
