package playbook

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/osrun/osrun/internal/hclsource"
	"github.com/osrun/osrun/modules"
)

// maxRetries bounds retries so a typo cannot keep a run going for days.
const maxRetries = 1000

// taskMetaSchema lists the meta-arguments; the rest of a task's body
// belongs to its module.
var taskMetaSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "on"},
		{Name: "when"},
		{Name: "timeout"},
		{Name: "retries"},
		{Name: "delay"},
		{Name: "until"},
		{Name: "ignore_errors"},
		{Name: "check_mode"},
	},
}

func metaNames() []string {
	names := make([]string, len(taskMetaSchema.Attributes))
	for i, a := range taskMetaSchema.Attributes {
		names[i] = a.Name
	}
	return names
}

func (d *decoder) decodeTask(b *hcl.Block) (*Task, hcl.Diagnostics) {
	t := &Task{Module: b.Labels[0], Name: b.Labels[1], DeclRange: b.DefRange, args: map[string]*hcl.Attribute{}}
	idx := d.taskIndex
	d.taskIndex++
	var diags hcl.Diagnostics
	if !hclsource.ValidName(t.Name) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid task name",
			Detail:   fmt.Sprintf("A task name must start with a letter, contain only letters, digits, underscores and dashes, and be at most %d characters long, so later tasks can refer to it as task.<module>.<name>.", hclsource.MaxName),
			Subject:  b.LabelRanges[1].Ptr(),
		})
	}
	if more := d.reservedTask(t, b); more.HasErrors() {
		diags = append(diags, more...)
	} else if prev, dup := d.taskSeen[t.Key()]; dup {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate task",
			Detail:   fmt.Sprintf("A task %q was already declared at %s; give this one another name.", t.Key(), prev.DeclRange),
			Subject:  hcl.RangeBetween(b.LabelRanges[0], b.LabelRanges[1]).Ptr(),
		})
	} else {
		d.taskSeen[t.Key()] = t
	}
	if d.reg != nil {
		t.Def, _ = d.reg.Lookup(t.Module)
	}
	if t.Def == nil {
		var names []string
		if d.reg != nil {
			names = d.reg.Names()
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unknown module",
			Detail:   fmt.Sprintf("There is no module named %q.%s Modules: %s.", t.Module, didYouMean(t.Module, names), listOf(names)),
			Subject:  b.LabelRanges[0].Ptr(),
		})
	}

	content, rest, more := b.Body.PartialContent(taskMetaSchema)
	diags = append(diags, more...)
	dynamic := refScope{host: true, task: true, taskIdx: idx, thisTask: t.Key()}

	t.On = modules.OnHost
	if t.Def != nil {
		t.On = t.Def.DefaultOn
	}
	if attr, ok := content.Attributes["on"]; ok {
		diags = append(diags, d.decodeOn(attr, t)...)
	}
	if attr, ok := content.Attributes["when"]; ok {
		s := dynamic
		s.what = "when"
		if more := d.checkRefs(attr.Expr, s); more.HasErrors() {
			diags = append(diags, more...)
		} else {
			t.when = attr.Expr
			t.WhenSource = d.source(attr.Expr.Range())
		}
	}
	if attr, ok := content.Attributes["until"]; ok {
		s := dynamic
		s.what, s.self = "until", true
		if more := d.checkRefs(attr.Expr, s); more.HasErrors() {
			diags = append(diags, more...)
		} else {
			t.until = attr.Expr
		}
	}
	if attr, ok := content.Attributes["timeout"]; ok {
		diags = append(diags, d.static1(attr, func() hcl.Diagnostics {
			var more hcl.Diagnostics
			t.Timeout, more = staticDuration(attr, d.static)
			return more
		})...)
	}
	if attr, ok := content.Attributes["delay"]; ok {
		diags = append(diags, d.static1(attr, func() hcl.Diagnostics {
			var more hcl.Diagnostics
			t.Delay, more = staticDuration(attr, d.static)
			return more
		})...)
	}
	if attr, ok := content.Attributes["retries"]; ok {
		diags = append(diags, d.static1(attr, func() hcl.Diagnostics {
			var more hcl.Diagnostics
			t.Retries, more = staticInt(attr, d.static, 0, maxRetries)
			return more
		})...)
	}
	if attr, ok := content.Attributes["ignore_errors"]; ok {
		diags = append(diags, d.static1(attr, func() hcl.Diagnostics {
			var more hcl.Diagnostics
			t.IgnoreErrors, _, more = staticBool(attr, d.static)
			return more
		})...)
	}
	if attr, ok := content.Attributes["check_mode"]; ok {
		diags = append(diags, d.static1(attr, func() hcl.Diagnostics {
			v, set, more := staticBool(attr, d.static)
			if set {
				t.CheckMode = &v
			}
			return more
		})...)
	}

	attrs, more := rest.JustAttributes()
	diags = append(diags, more...)
	if t.Def == nil {
		return nil, diags
	}
	for _, attr := range sortedAttrs(attrs) {
		p, ok := t.Def.Param(attr.Name)
		if !ok {
			candidates := append(paramNames(t.Def), metaNames()...)
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unsupported argument",
				Detail: fmt.Sprintf("Module %s has no argument %q.%s Its arguments: %s.",
					t.Module, attr.Name, didYouMean(attr.Name, candidates), listOf(paramNames(t.Def))),
				Subject: attr.NameRange.Ptr(),
				Context: b.DefRange.Ptr(),
			})
			continue
		}
		s := dynamic
		s.what = "argument " + attr.Name
		if more := d.checkRefs(attr.Expr, s); more.HasErrors() {
			diags = append(diags, more...)
			continue
		}
		diags = append(diags, d.checkArg(p, attr)...)
		t.args[attr.Name] = attr
	}
	for _, p := range t.Def.Params {
		if _, given := attrs[p.Name]; p.Required && !given {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing required argument",
				Detail:   fmt.Sprintf("Module %s requires the argument %q.", t.Module, p.Name),
				Subject:  b.DefRange.Ptr(),
			})
		}
	}
	diags = append(diags, d.taskGateID(t)...)
	return t, diags
}

// static1 checks that attr uses only var.* and, if so, decodes it.
func (d *decoder) static1(attr *hcl.Attribute, decode func() hcl.Diagnostics) hcl.Diagnostics {
	if diags := d.checkStatic(attr); diags.HasErrors() {
		return diags
	}
	return decode()
}

func (d *decoder) decodeOn(attr *hcl.Attribute, t *Task) hcl.Diagnostics {
	return d.static1(attr, func() hcl.Diagnostics {
		s, diags := staticString(attr, d.static)
		if diags.HasErrors() {
			return diags
		}
		switch w := modules.Where(s); w {
		case modules.OnHost, modules.OnControl:
			t.On = w
			return nil
		}
		return hcl.Diagnostics{attrError(attr, "Invalid value for on",
			fmt.Sprintf("%q is not a place to run a task: use \"host\" (over the host's connection) or \"control\" (on the machine running osrun).", s))}
	})
}

// checkArg checks what can be known of a module argument at load time: a
// secret must come from env() or file(), and a value that depends on
// nothing but variables must convert to the parameter's type.
func (d *decoder) checkArg(p modules.Param, attr *hcl.Attribute) hcl.Diagnostics {
	if p.Secret && len(attr.Expr.Variables()) == 0 && !callsSecretFunction(attr.Expr) {
		return hcl.Diagnostics{attrError(attr, "Secret in plain text",
			fmt.Sprintf("Argument %q is a secret: write a reference such as env(\"OSRUN_%s\") or file(\"...\"), never the value itself.", p.Name, strings.ToUpper(p.Name)))}
	}
	for _, tr := range attr.Expr.Variables() {
		if tr.RootName() != "var" {
			return nil // depends on the host: checked when it runs
		}
	}
	if callsFunction(attr.Expr) || d.varsBroken {
		return nil
	}
	v, diags := attr.Expr.Value(d.static)
	if diags.HasErrors() {
		return diags
	}
	if _, err := convertArg(p, v); err != nil {
		return hcl.Diagnostics{attrError(attr, err.Summary, err.Detail)}
	}
	return nil
}

func paramNames(def *modules.Definition) []string {
	names := make([]string, len(def.Params))
	for i, p := range def.Params {
		names[i] = p.Name
	}
	return names
}

func (d *decoder) source(rng hcl.Range) string {
	if d.f.parser == nil {
		return ""
	}
	hf := d.f.parser.Files()[rng.Filename]
	if hf == nil || rng.End.Byte > len(hf.Bytes) || rng.Start.Byte > rng.End.Byte {
		return ""
	}
	return string(rng.SliceBytes(hf.Bytes))
}
