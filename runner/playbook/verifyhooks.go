package playbook

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/osrun/osrun/modules"
)

// What the plan verifier (runner/verify) needs to evaluate tasks before
// anything runs, when the results of earlier tasks are not known yet: it
// passes EvalContext results that are cty.DynamicVal for the tasks that
// will have run on the host.

// StaticWhen evaluates the task's condition as far as ctx allows. known is
// false when the condition depends on values ctx leaves unknown; err is
// for a condition that fails to evaluate or is not a bool.
func (t *Task) StaticWhen(ctx *hcl.EvalContext) (run, known bool, err error) {
	if t.when == nil {
		return true, true, nil
	}
	v, diags := t.when.Value(ctx)
	if diags.HasErrors() {
		return false, false, fmt.Errorf("when: %w", diagError(diags))
	}
	v, _ = v.UnmarkDeep()
	if !v.IsKnown() {
		return false, false, nil
	}
	b, cerr := convert.Convert(v, cty.Bool)
	if cerr != nil || b.IsNull() {
		return false, false, fmt.Errorf("when: the condition must be true or false, not %s", friendly(v))
	}
	if !b.IsKnown() {
		return false, false, nil
	}
	return b.True(), true, nil
}

// StaticArgs evaluates the task's arguments as Args does, as far as ctx
// allows. An argument that is not known before the run (it reads a result
// or fails to evaluate), and every secret (a plan reads no secrets), is an
// unknown value of its parameter's type and named in unknown, in parameter
// order.
func (t *Task) StaticArgs(ctx *hcl.EvalContext) (args modules.Args, unknown []string) {
	args = make(modules.Args, len(t.Def.Params))
	for _, p := range t.Def.Params {
		attr, given := t.args[p.Name]
		if !given {
			args[p.Name] = defaultOf(p)
			continue
		}
		if p.Secret {
			args[p.Name] = cty.UnknownVal(p.Type)
			unknown = append(unknown, p.Name)
			continue
		}
		v, diags := attr.Expr.Value(ctx)
		var conv cty.Value
		var aerr *argError
		if !diags.HasErrors() {
			conv, aerr = convertArg(p, v)
		}
		if diags.HasErrors() || aerr != nil {
			args[p.Name] = cty.UnknownVal(p.Type)
			unknown = append(unknown, p.Name)
			continue
		}
		args[p.Name] = conv
	}
	return args, unknown
}
