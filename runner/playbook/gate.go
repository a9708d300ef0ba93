package playbook

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/gate"
)

// A wave's gate attribute is written as
//
//	gate = {
//	  instructions = "Check the applications on the updating front-ends, then approve."
//	  id           = "upgrade_loaded" # optional: the wave's name
//	  timeout      = "2h"             # optional: DefaultGateTimeout
//	}
//
// and becomes the wave's first task, of module gate, named after the wave
// (gate.<wave>). Being an ordinary task, it is journalled, resumed, shown
// by plan and check mode, and its timeout or denial fails the hosts of the
// batch like any task's, so the wave's other tasks never run unapproved;
// the runner then stops the run whatever the wave's failure budget.

// DefaultGateTimeout bounds a wave gate that names no timeout: a run left
// waiting overnight for an answer nobody will give is worse than one that
// stops, safely, before the wave.
const DefaultGateTimeout = time.Hour

// gateModule is the module a wave gate runs.
const gateModule = "gate"

// gateKeys are the attributes of a wave's gate object.
var gateKeys = []string{"id", "instructions", "timeout"}

// gateUse records where a gate id was first used, for the duplicate check.
type gateUse struct {
	what string // "task gate.x" or "the gate of wave y"
	rng  hcl.Range
}

// gatedWaves returns the waves with a gate attribute, by name, so a task
// that would take the name of a wave gate's task is refused wherever it is
// declared, before or after that wave.
func gatedWaves(waves []*hcl.Block) map[string]hcl.Range {
	out := map[string]hcl.Range{}
	for _, w := range waves {
		body, ok := w.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		if attr, ok := body.Attributes["gate"]; ok {
			out[w.Labels[0]] = attr.SrcRange
		}
	}
	return out
}

// reservedTask refuses a task gate.<wave> when that wave has a gate: the
// key belongs to the wave gate's task, and the journal, resume and
// task.gate.<name> references must not mistake one for the other.
func (d *decoder) reservedTask(t *Task, b *hcl.Block) hcl.Diagnostics {
	if t.Module != gateModule {
		return nil
	}
	rng, ok := d.gatedWaves[t.Name]
	if !ok {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Reserved task name",
		Detail:   fmt.Sprintf("Task %q is the name of the gate of wave %q (declared at %s); give this task another name.", t.Key(), t.Name, rng),
		Subject:  hcl.RangeBetween(b.LabelRanges[0], b.LabelRanges[1]).Ptr(),
	}}
}

// gateEntry is one attribute of a wave's gate object.
type gateEntry struct {
	name      string
	nameRange hcl.Range
	expr      hcl.Expression
}

// decodeWaveGate turns a wave's gate attribute into the wave's first task.
// It returns nil when the gate is invalid.
func (d *decoder) decodeWaveGate(w *Wave, onFailure bool, attr *hcl.Attribute) (*Task, hcl.Diagnostics) {
	if onFailure {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Gate in an on_failure wave",
			Detail:   "An on_failure wave puts the farm back in a safe state after a failure: a restore must not wait for a person. Put the gate on a wave instead.",
			Subject:  attr.NameRange.Ptr(),
			Context:  attr.Range.Ptr(),
		}}
	}
	// Evaluated once, before the wave: it may not depend on a host.
	if diags := d.checkRefs(attr.Expr, refScope{what: "gate"}); diags.HasErrors() {
		return nil, diags
	}
	entries, diags := d.gateEntries(attr)
	if diags.HasErrors() {
		return nil, diags
	}

	id, idRange := w.Name, attr.Expr.Range()
	instructions := ""
	timeout := DefaultGateTimeout
	given := map[string]bool{}
	for _, e := range entries {
		given[e.name] = true
		if !contains(gateKeys, e.name) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unsupported gate attribute",
				Detail: fmt.Sprintf("A wave's gate has no attribute %q.%s Its attributes: %s.",
					e.name, didYouMean(e.name, gateKeys), listOf(gateKeys)),
				Subject: e.nameRange.Ptr(),
				Context: attr.Range.Ptr(),
			})
			continue
		}
		if d.varsBroken && len(e.expr.Variables()) > 0 {
			continue // the variable's own error says it all
		}
		s, more := d.gateString(attr, e)
		diags = append(diags, more...)
		if more.HasErrors() {
			continue
		}
		switch e.name {
		case "instructions":
			if s == "" {
				diags = append(diags, gateError(attr, e, "Invalid gate instructions",
					"The instructions are what the person must check before approving: they must not be empty."))
			}
			instructions = s
		case "id":
			if !gate.ValidID(s) {
				diags = append(diags, gateError(attr, e, "Invalid gate id", fmt.Sprintf("%q %s, as osrun approve and --approve give it.", s, gate.IDRule)))
				continue
			}
			id, idRange = s, e.expr.Range()
		case "timeout":
			dur, err := time.ParseDuration(s)
			if err != nil || dur <= 0 {
				diags = append(diags, gateError(attr, e, "Invalid gate timeout",
					fmt.Sprintf("%q is not a positive duration; write a number with a unit, such as \"30m\" or \"2h\". With no answer in that time the run stops before the wave.", s)))
				continue
			}
			timeout = dur
		}
	}
	if !given["instructions"] {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing gate instructions",
			Detail:   "A wave's gate requires instructions: what the person must check before approving.",
			Subject:  attr.Expr.StartRange().Ptr(),
			Context:  attr.Range.Ptr(),
		})
	}
	if !gate.ValidID(id) {
		// The wave's name is valid as a gate id unless too long for one;
		// its own error covers an invalid name.
		return nil, diags
	}
	diags = append(diags, d.useGateID(id, idRange, fmt.Sprintf("the gate of wave %q", w.Name))...)
	if diags.HasErrors() {
		return nil, diags
	}

	var def *modules.Definition
	if d.reg != nil {
		def, _ = d.reg.Lookup(gateModule)
	}
	if def == nil {
		return nil, hcl.Diagnostics{attrError(attr, "Unknown module",
			"A wave's gate runs the gate module, which this registry does not have.")}
	}
	t := &Task{
		Module: gateModule,
		Name:   w.Name,
		Def:    def,
		// A gate asks a person, not a host: on the control machine,
		// whatever the module's default may become.
		On:        modules.OnControl,
		Timeout:   timeout,
		DeclRange: attr.Range,
		args: map[string]*hcl.Attribute{
			"id":           staticAttr("id", cty.StringVal(id), idRange),
			"instructions": staticAttr("instructions", cty.StringVal(instructions), attr.Expr.Range()),
		},
	}
	// reservedTask keeps user tasks from taking this key.
	d.taskSeen[t.Key()] = t
	return t, nil
}

// gateEntries lists the attributes of the gate object: from an object
// constructor, each located at its own key; from any other expression
// (var.gate, say), evaluated now and located at the whole expression.
func (d *decoder) gateEntries(attr *hcl.Attribute) ([]gateEntry, hcl.Diagnostics) {
	notObject := hcl.Diagnostics{attrError(attr, "Invalid gate",
		`A wave's gate is an object: gate = { instructions = "...", id = "...", timeout = "1h" }, only instructions being required.`)}
	if pairs, diags := hcl.ExprMap(attr.Expr); !diags.HasErrors() {
		var entries []gateEntry
		for _, kv := range pairs {
			k, diags := kv.Key.Value(d.static)
			if diags.HasErrors() {
				return nil, diags
			}
			k, _ = k.Unmark()
			if !k.IsKnown() || k.IsNull() || k.Type() != cty.String {
				return nil, hcl.Diagnostics{{
					Severity: hcl.DiagError,
					Summary:  "Invalid gate attribute name",
					Detail:   "The attributes of a wave's gate are named id, instructions and timeout.",
					Subject:  kv.Key.Range().Ptr(),
					Context:  attr.Range.Ptr(),
				}}
			}
			entries = append(entries, gateEntry{name: k.AsString(), nameRange: kv.Key.Range(), expr: kv.Value})
		}
		return entries, nil
	}
	if d.varsBroken && len(attr.Expr.Variables()) > 0 {
		return nil, nil
	}
	v, diags := attr.Expr.Value(d.static)
	if diags.HasErrors() {
		return nil, diags
	}
	v, _ = v.UnmarkDeep()
	if v.IsNull() || !v.IsWhollyKnown() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
		return nil, notObject
	}
	var entries []gateEntry
	for it := v.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		entries = append(entries, gateEntry{name: k.AsString(), nameRange: attr.Expr.Range(), expr: hcl.StaticExpr(ev, attr.Expr.Range())})
	}
	return entries, nil
}

// gateString evaluates one attribute of the gate object as a string.
func (d *decoder) gateString(attr *hcl.Attribute, e gateEntry) (string, hcl.Diagnostics) {
	v, diags := e.expr.Value(d.static)
	if diags.HasErrors() {
		return "", diags
	}
	v, _ = v.UnmarkDeep()
	if !v.IsWhollyKnown() {
		return "", hcl.Diagnostics{gateError(attr, e, "Invalid value", fmt.Sprintf("The gate's %s must be known before the run starts.", e.name))}
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil || s.IsNull() {
		return "", hcl.Diagnostics{gateError(attr, e, "Incorrect attribute value type",
			fmt.Sprintf("The gate's %s must be a string, not %s.", e.name, friendly(v)))}
	}
	return s.AsString(), nil
}

func gateError(attr *hcl.Attribute, e gateEntry, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
		Subject:  e.expr.Range().Ptr(),
		Context:  attr.Range.Ptr(),
	}
}

// staticAttr is a module argument whose value the decoder already knows.
func staticAttr(name string, v cty.Value, rng hcl.Range) *hcl.Attribute {
	return &hcl.Attribute{Name: name, Expr: hcl.StaticExpr(v, rng), Range: rng, NameRange: rng}
}

// useGateID records a gate id, refusing one already used: approving one
// gate would silently approve the other, since an approval holds for the
// rest of the run.
func (d *decoder) useGateID(id string, rng hcl.Range, what string) hcl.Diagnostics {
	if prev, dup := d.gateIDs[id]; dup {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Duplicate gate id",
			Detail: fmt.Sprintf("Gate id %q is already used by %s at %s: approving one would approve both. Give each gate its own id.",
				id, prev.what, prev.rng),
			Subject: rng.Ptr(),
		}}
	}
	d.gateIDs[id] = gateUse{what: what, rng: rng}
	return nil
}

// taskGateID checks the id of a gate task when it is known before the run
// (a literal or variables only): its characters, and that no other gate
// uses it. An id built from host.* is checked by the module when it runs.
func (d *decoder) taskGateID(t *Task) hcl.Diagnostics {
	if t.Module != gateModule {
		return nil
	}
	attr, ok := t.args["id"]
	if !ok || d.varsBroken || callsFunction(attr.Expr) {
		return nil
	}
	for _, tr := range attr.Expr.Variables() {
		if tr.RootName() != "var" {
			return nil
		}
	}
	v, diags := attr.Expr.Value(d.static)
	if diags.HasErrors() {
		return nil // checkArg reports it
	}
	v, _ = v.UnmarkDeep()
	if !v.IsWhollyKnown() || v.IsNull() || v.Type() != cty.String {
		return nil
	}
	id := v.AsString()
	if !gate.ValidID(id) {
		return hcl.Diagnostics{attrError(attr, "Invalid gate id", fmt.Sprintf("%q %s, as osrun approve and --approve give it.", id, gate.IDRule))}
	}
	return d.useGateID(id, attr.Expr.Range(), fmt.Sprintf("task %s", t.Key()))
}
