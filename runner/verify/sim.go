package verify

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/runner"
	"github.com/osrun/osrun/runner/playbook"
)

// waves simulates waves as planned, calling after (if not nil) after each
// step.
func (s *sim) waves(waves []*playbook.Wave, planned []runner.PlanWave, after func(position)) {
	for i, w := range waves {
		pw := planned[i]
		for b, names := range pw.Batches {
			batch := make([]*hostSim, 0, len(names.Hosts))
			for _, n := range names.Hosts {
				batch = append(batch, s.byName[n])
			}
			pos := position{wave: w, batch: b + 1, batches: len(pw.Batches), stop: s.stop}
			for _, t := range w.Tasks {
				pos.task = t
				s.step(pos, batch)
				if after != nil {
					after(pos)
				}
			}
		}
	}
}

// position is where in the plan a step is.
type position struct {
	wave           *playbook.Wave
	batch, batches int
	task           *playbook.Task
	// stop is where the run stopped, for a step of an on_failure wave.
	stop *position
}

func (p position) String() string {
	if p.stop != nil {
		return fmt.Sprintf("on_failure wave %q, batch %d of %d, task %s, run after the run stopped at %s",
			p.wave.Name, p.batch, p.batches, p.task.Key(), p.stop)
	}
	return fmt.Sprintf("wave %q, batch %d of %d, task %s", p.wave.Name, p.batch, p.batches, p.task.Key())
}

// brief is a further occurrence, where the wave and task are already said.
func (p position) brief(host string) string {
	if p.stop != nil {
		// The same restore task goes wrong from many stopping points: list
		// those, not every host again.
		return fmt.Sprintf("after a stop at wave %q, batch %d, task %s", p.stop.wave.Name, p.stop.batch, p.stop.task.Key())
	}
	return fmt.Sprintf("on %s in batch %d", host, p.batch)
}

// again is a further occurrence of something that is not about one host.
func (p position) again() string {
	if p.stop != nil {
		return p.brief("")
	}
	return fmt.Sprintf("again in batch %d", p.batch)
}

// hostSim is one host of the model.
type hostSim struct {
	h                 *inventory.Host
	loaded            bool
	in, enabled       bool
	upgraded          bool
	disrupted         bool // during the current step only
	leaving, entering bool // during the current step only
	// The tasks that last took the host out of rotation and disabled its
	// deployment, to point at when they are never undone.
	outBy, disabledBy *playbook.Task
	outAt, disabledAt position
	// results holds, by task key, cty.DynamicVal for every task that ran
	// on the host: its result is not known before the run, but a task
	// that has not run reads as skipped, as it will at run time.
	results map[string]cty.Value
	ctx     *hcl.EvalContext // built from results; nil when stale
}

// evalContext is what the host's expressions see at this point of the
// simulated run.
func (s *sim) evalContext(hs *hostSim) *hcl.EvalContext {
	if hs.ctx == nil {
		hs.ctx = s.shared.evalContext(s.pb, s.inv, hs)
	}
	return hs.ctx
}

// evalShare is what hosts' evaluation contexts have in common, shared by a
// simulation and its forks: each host's inventory value, built once, and
// the var and task namespaces, which depend only on which tasks have run
// on the host, every result being unknown before the run. Without it,
// verifying 2,000 hosts rebuilt both after every task on every host.
type evalShare struct {
	hostVals map[*inventory.Host]cty.Value
	byRun    map[string]*hcl.EvalContext
}

func (e *evalShare) evalContext(pb *playbook.Playbook, inv *inventory.Inventory, hs *hostSim) *hcl.EvalContext {
	key := strings.Join(slices.Sorted(maps.Keys(hs.results)), "\x00")
	common, ok := e.byRun[key]
	if !ok {
		common = pb.EvalContext(inv, nil, hs.results)
		e.byRun[key] = common
	}
	hv, ok := e.hostVals[hs.h]
	if !ok {
		hv = inv.HostValue(hs.h)
		e.hostVals[hs.h] = hv
	}
	vars := maps.Clone(common.Variables)
	vars["host"] = hv
	return &hcl.EvalContext{Variables: vars, Functions: common.Functions}
}

func (hs *hostSim) serving() bool {
	return hs.h.IsFrontend() && hs.in && !hs.leaving && !hs.disrupted
}

// describe says what the state of the host is at this step.
func (hs *hostSim) describe() string {
	var parts []string
	switch {
	case !hs.h.IsFrontend():
		parts = append(parts, "not a front-end")
	case hs.leaving:
		parts = append(parts, "leaving rotation")
	case hs.entering:
		parts = append(parts, "entering rotation")
	case hs.in:
		parts = append(parts, "in rotation")
	default:
		parts = append(parts, "out of rotation")
	}
	if hs.h.IsFrontend() {
		if hs.enabled {
			parts = append(parts, "deployment enabled")
		} else {
			parts = append(parts, "deployment disabled")
		}
	}
	if hs.disrupted {
		parts = append(parts, "disrupted")
	}
	if hs.upgraded {
		parts = append(parts, "upgraded")
	} else {
		parts = append(parts, "not upgraded")
	}
	return strings.Join(parts, ", ")
}

type sim struct {
	pb     *playbook.Playbook
	inv    *inventory.Inventory
	hosts  []*hostSim // inventory order
	byName map[string]*hostSim
	// controllerUpgraded is set once an upgrading task ran on the controller.
	controllerUpgraded bool
	// controllerPlanned is set when the plan runs anything on the
	// controller; a --limit that leaves it out assumes it was upgraded
	// before.
	controllerPlanned bool
	// zoneDown marks zones already reported unserved, so that one outage
	// is one diagnostic, however many steps it lasts.
	zoneDown map[string]bool
	rep      *report
	trace    Trace
	// stop is set in a fork that simulates the on_failure waves after the
	// run stopped there.
	stop *position
	// shared is common to the simulation and its forks.
	shared *evalShare
}

// fork copies the farm as it is after stop, to run the on_failure waves
// on. Only rules 1 and 2 apply to them: a restore must not disrupt a host
// in rotation nor leave a zone unserved, but it may well leave hosts out
// of rotation or deployment-disabled on purpose. Its warnings are not
// reported: on_failure tasks depend on what the run did by design, and
// the verifier cannot know more than that they may run.
func (s *sim) fork(stop position) *sim {
	f := &sim{pb: s.pb, inv: s.inv, byName: map[string]*hostSim{}, zoneDown: maps.Clone(s.zoneDown), rep: s.rep,
		controllerUpgraded: s.controllerUpgraded, controllerPlanned: s.controllerPlanned, stop: &stop, shared: s.shared}
	for _, hs := range s.hosts {
		c := *hs
		c.results = maps.Clone(hs.results)
		f.hosts = append(f.hosts, &c)
		f.byName[c.h.Name] = &c
	}
	return f
}

func newSim(pb *playbook.Playbook, inv *inventory.Inventory) *sim {
	s := &sim{pb: pb, inv: inv, byName: map[string]*hostSim{}, zoneDown: map[string]bool{}, rep: newReport(),
		shared: &evalShare{hostVals: map[*inventory.Host]cty.Value{}, byRun: map[string]*hcl.EvalContext{}}}
	for _, h := range inv.Hosts {
		hs := &hostSim{h: h, loaded: inv.SplitOf(h) == inventory.GroupLoaded, in: h.IsFrontend(), enabled: h.IsFrontend(), results: map[string]cty.Value{}}
		s.hosts = append(s.hosts, hs)
		s.byName[h.Name] = hs
	}
	return s
}

// act is a task's effect on one host.
type act struct {
	hs  *hostSim
	eff modules.Effect
}

// step runs one task on one batch: evaluate, check the rules against the
// farm while the task runs, record, then apply.
func (s *sim) step(pos position, batch []*hostSim) {
	var acts []act
	for _, hs := range batch {
		if eff, runs := s.evaluate(pos, hs); runs {
			acts = append(acts, act{hs, eff})
		}
	}
	for _, a := range acts {
		a.hs.disrupted = a.eff.Disruptive
		a.hs.leaving = a.hs.in && a.eff.Rotation == modules.RotationOut && a.hs.h.IsFrontend()
		a.hs.entering = !a.hs.in && a.eff.Rotation == modules.RotationIn && a.hs.h.IsFrontend()
	}
	for _, a := range acts {
		s.checkDisruptive(pos, a)
		if s.stop == nil {
			s.checkControllerUpgrade(pos, a)
			s.checkControllerFirst(pos, a)
			s.checkReenable(pos, a)
		}
	}
	s.checkZones(pos)

	if s.stop == nil {
		st := Step{Wave: pos.wave.Name, Batch: pos.batch, Batches: pos.batches, Task: pos.task.Key(), Hosts: []string{}, Farm: s.snapshot()}
		for _, a := range acts {
			st.Hosts = append(st.Hosts, a.hs.h.Name)
		}
		s.trace.Steps = append(s.trace.Steps, st)
	}

	for _, a := range acts {
		s.apply(pos, a)
	}
}

// evaluate decides whether the task runs on the host and with what
// effect, as far as can be known before the run, and reports what cannot.
func (s *sim) evaluate(pos position, hs *hostSim) (modules.Effect, bool) {
	t := pos.task
	ctx := s.evalContext(hs)
	run, known, err := t.StaticWhen(ctx)
	if known && !run {
		return modules.Effect{}, false
	}
	var eff modules.Effect
	ok, why := true, ""
	if t.Def != nil && (t.CheckMode == nil || !*t.CheckMode) {
		// A task that only ever checks changes nothing.
		args, unknown := t.StaticArgs(ctx)
		eff, ok, why = effectOf(t.Def, args, unknown)
	}
	if !ok {
		s.couldNotVerify(pos, hs, "effect", why+"; the verifier counted it as "+effectText(eff))
	}
	switch {
	case err != nil:
		// The run would fail the host here; the verifier still follows
		// the plan as written.
		s.couldNotVerify(pos, hs, "when-error", fmt.Sprintf("its condition cannot be evaluated (%s), so the verifier assumed it runs", err))
	case !known && (eff.Rotation != "" || eff.Deployment != "" || eff.Upgrades):
		// Assuming a disruptive task runs is the safe side; for a change
		// of rotation or deployment neither side is.
		s.couldNotVerify(pos, hs, "when", "its when condition depends on results of earlier tasks, so the verifier assumed it runs; if it is skipped, "+effectText(eff)+" does not happen")
	}
	if t.IgnoreErrors && ((eff.Rotation == modules.RotationOut && hs.h.IsFrontend()) || eff.Deployment == modules.DeploymentDisabled) {
		s.couldNotVerify(pos, hs, "ignore", "it has ignore_errors = true, so if it fails the later tasks still run on the host, which is then still "+
			map[bool]string{true: "in rotation", false: "deployment-enabled"}[eff.Rotation == modules.RotationOut])
	}
	return eff, true
}

func (s *sim) couldNotVerify(pos position, hs *hostSim, kind, why string) {
	if s.stop != nil {
		return // see fork
	}
	s.rep.add(fmt.Sprintf("%p/warn/%s", pos.task, kind), finding{
		severity: hcl.DiagWarning,
		summary:  "Could not verify task " + pos.task.Key(),
		subject:  pos.task.DeclRange,
		detail:   fmt.Sprintf("In %s on %s, %s.", pos, hs.h.Name, why),
	}, pos.brief(hs.h.Name))
}

func effectText(e modules.Effect) string {
	var parts []string
	switch e.Rotation {
	case modules.RotationIn:
		parts = append(parts, "putting the host in rotation")
	case modules.RotationOut:
		parts = append(parts, "taking the host out of rotation")
	}
	switch e.Deployment {
	case modules.DeploymentEnabled:
		parts = append(parts, "enabling deployment")
	case modules.DeploymentDisabled:
		parts = append(parts, "disabling deployment")
	}
	if e.Disruptive {
		parts = append(parts, "disruptive")
	}
	if e.Upgrades {
		parts = append(parts, "upgrading the platform")
	}
	if len(parts) == 0 {
		return "having no effect"
	}
	return strings.Join(parts, ", ")
}

// apply records the task's effect once it has ended on the batch.
func (s *sim) apply(pos position, a act) {
	hs := a.hs
	hs.disrupted, hs.leaving, hs.entering = false, false, false
	hs.results[pos.task.Key()], hs.ctx = cty.DynamicVal, nil
	if hs.h.IsFrontend() {
		switch a.eff.Rotation {
		case modules.RotationIn:
			hs.in = true
		case modules.RotationOut:
			hs.in, hs.outBy, hs.outAt = false, pos.task, pos
		}
		switch a.eff.Deployment {
		case modules.DeploymentEnabled:
			hs.enabled = true
		case modules.DeploymentDisabled:
			hs.enabled, hs.disabledBy, hs.disabledAt = false, pos.task, pos
		}
	}
	if a.eff.Upgrades {
		hs.upgraded = true
		if hs.h.HasRole(inventory.RoleController) {
			s.controllerUpgraded = true
		}
	}
}

func (s *sim) snapshot() []HostState {
	out := make([]HostState, len(s.hosts))
	for i, hs := range s.hosts {
		out[i] = HostState{
			Host:              hs.h.Name,
			Zone:              hs.h.Zone,
			Frontend:          hs.h.IsFrontend(),
			InRotation:        hs.h.IsFrontend() && hs.in && !hs.leaving,
			DeploymentEnabled: hs.h.IsFrontend() && hs.enabled,
			Disrupted:         hs.disrupted,
			Upgraded:          hs.upgraded,
		}
	}
	return out
}
