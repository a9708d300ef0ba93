package runner

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/runner/playbook"
)

// Resume is an earlier run's record, consulted step by step by a run that
// continues it (journal.State implements it).
type Resume interface {
	// Prior reports what the earlier run recorded about a task on a host in
	// a wave; false when it never reached the step.
	Prior(wave, task, host string) (PriorStep, bool)
}

// PriorStep is what an earlier run recorded about one step.
type PriorStep struct {
	// Status is "" for a step to re-check before anything is applied: it
	// started and never reported an end (it may have run partly or
	// wholly), or something since may have undone it (Msg says what).
	Status Status
	Msg    string
	// Output is the step's Event.Output.
	Output json.RawMessage
	// RunID is the run that did the step.
	RunID string
	// Undone, for a finished step, says why it may no longer hold: an
	// earlier run's on_failure waves ran after it and may have undone it
	// (put a drained front-end back in rotation). "" when nothing did.
	Undone string
}

// Done reports a step that finished in a way a resume can trust.
func (p PriorStep) Done() bool {
	return p.Status == StatusOK || p.Status == StatusChanged || p.Status == StatusSkipped
}

// InDoubt reports a step to re-check.
func (p PriorStep) InDoubt() bool { return p.Status == "" }

// confirmed is what the message of a replayed step adds when its live
// state was re-read and found as recorded.
const confirmed = "; live state confirmed"

// result is the step's recorded Result, as later tasks see it: the
// module's own message, without the "done in run X" a replaying run put
// in front of it.
func (p PriorStep) result() (modules.Result, error) {
	msg := p.Msg
	head := "done in run " + p.RunID
	for _, h := range []string{head + confirmed, head} {
		if msg == h {
			msg = ""
			break
		}
		if m, ok := strings.CutPrefix(msg, h+": "); ok {
			msg = m
			break
		}
	}
	out, err := decodeOutput(p.Output)
	if err != nil {
		return modules.Result{Msg: msg}, err
	}
	return modules.Result{Changed: p.Status == StatusChanged, Msg: msg, Output: out}, nil
}

// stepKey names a task on a host in a wave.
type stepKey struct{ wave, task, host string }

// effectKind is a part of a host's place in the farm whose live state a
// resume re-reads: rotation, deployment, installed version.
type effectKind int

const (
	kindRotation effectKind = iota
	kindDeployment
	kindUpgrade
	kinds // how many
)

// toReread finds the steps an earlier run finished whose live state the
// resume re-reads (Action.Check) instead of trusting the record: on each
// host, of the steps the record says ran (ok or changed; a skipped step
// did nothing), the last in run order that changes the host's rotation,
// the last that changes its deployment, and the last that upgrades it.
// Only the last counts: an earlier one was legitimately undone by the
// later (drained, then put back in rotation), and re-reading it would
// undo the later one again.
//
// It runs once, before the first wave, so the answer does not depend on
// timing. Conditions are not evaluated here: the record says whether a
// step ran (a step whose condition is false now is replayed, see
// execute). The effects are the modules' declared Effects on the arguments
// as they evaluate now, with the recorded outputs of the steps before, as
// the run will see them. A step whose effect cannot be told (its
// arguments do not evaluate) ends the search for the steps before it on
// that host: they are trusted, as they would be without a re-read,
// rather than re-applied on a guess.
//
// superseded are the other finished steps that changed a rotation, a
// deployment or a version: a later finished step of the same kind on the
// same host decides that state now, so even a restore since cannot make
// them worth redoing (redoing "drain" after "back in rotation" would take
// an upgraded, serving front-end out again).
func (r *run) toReread() (live, superseded map[stepKey]bool) {
	if r.opts.Resume == nil {
		return nil, nil
	}
	out, superseded := map[stepKey]bool{}, map[stepKey]bool{}
	for _, hs := range r.order {
		var last [kinds]stepKey // the zero key for none
		finishedSteps(r.pb, r.inv, hs.host, r.limit, r.opts.Resume, func(f finished) {
			k := stepKey{f.wave.Name, f.task.Key(), hs.host.Name}
			if f.effectErr != nil {
				hs.log.Warn("resume: the effect of a finished step cannot be told; it and the finished steps before it are trusted without re-reading the live state",
					"wave", f.wave.Name, "task", f.task.Key(), "err", f.effectErr)
				last = [kinds]stepKey{}
			}
			eff := f.effect
			if eff.Rotation != "" || eff.Deployment != "" || eff.Upgrades {
				superseded[k] = true
			}
			if eff.Rotation != "" {
				last[kindRotation] = k
			}
			if eff.Deployment != "" {
				last[kindDeployment] = k
			}
			if eff.Upgrades {
				last[kindUpgrade] = k
			}
		})
		for _, k := range last {
			if k == (stepKey{}) {
				continue
			}
			out[k] = true
			delete(superseded, k)
			hs.log.Debug("resume: the live state of a finished step will be re-read", "wave", k.wave, "task", k.task)
		}
	}
	return out, superseded
}

// finished is a step an earlier run finished and that did something: its
// record, and its effect on the host.
type finished struct {
	wave   *playbook.Wave
	task   *playbook.Task
	result modules.Result
	// effect is the module's declared Effects on the step's arguments as
	// they evaluate now; effectErr says why it cannot be told.
	effect    modules.Effect
	effectErr error
}

// finishedSteps calls visit, in run order, for each step the record says
// ran on host (ok or changed: a skipped step did nothing, nor does a task
// in check mode) in the main waves the limit leaves it in. The arguments
// are evaluated with the recorded outputs of the steps before, as a resume
// sees them. It stops at a step whose record cannot be read back: a resume
// fails the host there.
func finishedSteps(pb *playbook.Playbook, inv *inventory.Inventory, host *inventory.Host, limit map[*inventory.Host]bool, resume Resume, visit func(finished)) {
	results := map[string]cty.Value{}
	for _, w := range pb.Waves {
		if !slices.Contains(limited(w.Hosts, limit), host) {
			continue
		}
		for _, t := range w.Tasks {
			p, ok := resume.Prior(w.Name, t.Key(), host.Name)
			if !ok || !p.Done() {
				continue
			}
			res, err := p.result()
			if err != nil {
				return
			}
			if p.Status != StatusSkipped && (t.CheckMode == nil || !*t.CheckMode) {
				f := finished{wave: w, task: t, result: res}
				f.effect, f.effectErr = effectOf(t, pb.EvalContext(inv, host, results))
				visit(f)
			}
			results[t.Key()] = playbook.ResultValue(string(p.Status), res, nil)
		}
	}
}

// effectOf is what t does to the host, by its module's declared Effects
// on its arguments evaluated in ectx.
func effectOf(t *playbook.Task, ectx *hcl.EvalContext) (eff modules.Effect, err error) {
	if t.Def == nil || t.Def.Effects == nil {
		return modules.Effect{}, nil
	}
	args, err := t.Args(ectx)
	if err != nil {
		return modules.Effect{}, err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("module %s: effects: %v", t.Module, p)
		}
	}()
	return t.Def.Effects(args), nil
}

// encodeOutput turns a Result.Output into Event.Output. Secret-marked
// values are left out rather than redacted: a placeholder restored on
// resume would be read by later tasks as if it were the value, whereas a
// missing key fails with a clear "no attribute" error.
func encodeOutput(out map[string]cty.Value) (json.RawMessage, error) {
	plain := make(map[string]cty.Value, len(out))
	for k, v := range out {
		if v == cty.NilVal || secret.IsMarked(v) {
			continue
		}
		v, _ = v.UnmarkDeep()
		if !v.IsWhollyKnown() {
			continue
		}
		plain[k] = v
	}
	if len(plain) == 0 {
		return nil, nil
	}
	// The dynamic type makes ctyjson write the type next to the value, so
	// lists stay lists and maps stay maps when the output is restored.
	b, err := ctyjson.Marshal(cty.ObjectVal(plain), cty.DynamicPseudoType)
	if err != nil {
		return nil, fmt.Errorf("encode the output: %w", err)
	}
	return b, nil
}

// decodeOutput is the inverse of encodeOutput.
func decodeOutput(raw json.RawMessage) (map[string]cty.Value, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	v, err := ctyjson.Unmarshal(raw, cty.DynamicPseudoType)
	if err != nil {
		return nil, fmt.Errorf("decode the recorded output: %w", err)
	}
	if v.IsNull() || !v.Type().IsObjectType() {
		return nil, fmt.Errorf("decode the recorded output: not an object")
	}
	return v.AsValueMap(), nil
}
