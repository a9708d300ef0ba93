package playbook

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules"
)

// EvalContext is what a task's expressions see on host: var.*, host.*,
// task.<module>.<name>.* and the functions. results holds the host's
// results so far, by Task.Key, as built by ResultValue; a task that has not
// run on the host reads as skipped.
func (pb *Playbook) EvalContext(inv *inventory.Inventory, host *inventory.Host, results map[string]cty.Value) *hcl.EvalContext {
	byModule := map[string]map[string]cty.Value{}
	for _, t := range pb.tasks {
		r, ok := results[t.Key()]
		if !ok {
			r = notRun
		}
		if byModule[t.Module] == nil {
			byModule[t.Module] = map[string]cty.Value{}
		}
		byModule[t.Module][t.Name] = r
	}
	tasks := make(map[string]cty.Value, len(byModule))
	for m, named := range byModule {
		tasks[m] = cty.ObjectVal(named)
	}
	vars := map[string]cty.Value{"var": pb.varObj, "task": cty.EmptyObjectVal}
	if len(tasks) > 0 {
		vars["task"] = cty.ObjectVal(tasks)
	}
	if pb.varObj == cty.NilVal {
		vars["var"] = cty.EmptyObjectVal
	}
	if host != nil {
		vars["host"] = hostValue(inv, host)
	}
	return &hcl.EvalContext{Variables: vars, Functions: pb.funcs}
}

// Result statuses as task.<module>.<name>.status reads them. They match the
// runner's Status values.
const (
	ResultOK      = "ok"
	ResultChanged = "changed"
	ResultFailed  = "failed"
	ResultSkipped = "skipped"
)

var notRun = ResultValue(ResultSkipped, modules.Result{}, nil)

// ResultValue is the object task.<module>.<name> (and self, inside until)
// evaluates to: changed, failed, skipped, status, msg, error, output, and
// each key of Result.Output again at the top level unless it would hide
// one of those.
func ResultValue(status string, r modules.Result, err error) cty.Value {
	errText := ""
	if err != nil {
		errText = err.Error()
	}
	attrs := map[string]cty.Value{
		"changed": cty.BoolVal(r.Changed && status != ResultFailed && status != ResultSkipped),
		"failed":  cty.BoolVal(status == ResultFailed),
		"skipped": cty.BoolVal(status == ResultSkipped),
		"status":  cty.StringVal(status),
		"msg":     cty.StringVal(r.Msg),
		"error":   cty.StringVal(errText),
	}
	outputs := make(map[string]cty.Value, len(r.Output))
	for k, v := range r.Output {
		if v == cty.NilVal { // a module bug must not crash the run
			continue
		}
		outputs[k] = v
		if _, reserved := attrs[k]; !reserved && k != "output" {
			attrs[k] = v
		}
	}
	output := cty.EmptyObjectVal
	if len(outputs) > 0 {
		output = cty.ObjectVal(outputs)
	}
	attrs["output"] = output
	return cty.ObjectVal(attrs)
}

// When evaluates the task's condition; a task without one always runs.
func (t *Task) When(ctx *hcl.EvalContext) (bool, error) {
	return condition(t.when, ctx, "when")
}

// Until evaluates the task's until condition against self, its latest
// result; a task without one is done after its first successful attempt.
func (t *Task) Until(ctx *hcl.EvalContext, self cty.Value) (bool, error) {
	if t.until == nil {
		return true, nil
	}
	child := ctx.NewChild()
	child.Variables = map[string]cty.Value{"self": self}
	return condition(t.until, child, "until")
}

func condition(expr hcl.Expression, ctx *hcl.EvalContext, what string) (bool, error) {
	if expr == nil {
		return true, nil
	}
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return false, fmt.Errorf("%s: %w", what, diagError(diags))
	}
	v, _ = v.UnmarkDeep()
	b, err := convert.Convert(v, cty.Bool)
	if err != nil || b.IsNull() || !b.IsKnown() {
		return false, fmt.Errorf("%s: the condition must be true or false, not %s", what, friendly(v))
	}
	return b.True(), nil
}

// Args evaluates the task's module arguments for one host, converted to
// the parameters' types with defaults applied.
func (t *Task) Args(ctx *hcl.EvalContext) (modules.Args, error) {
	args := make(modules.Args, len(t.Def.Params))
	for _, p := range t.Def.Params {
		attr, given := t.args[p.Name]
		if !given {
			args[p.Name] = defaultOf(p)
			continue
		}
		v, diags := attr.Expr.Value(ctx)
		if diags.HasErrors() {
			return nil, fmt.Errorf("argument %s: %w", p.Name, diagError(diags))
		}
		conv, aerr := convertArg(p, v)
		if aerr != nil {
			return nil, fmt.Errorf("argument %s: %s", p.Name, aerr.Short)
		}
		args[p.Name] = conv
	}
	return args, nil
}

func defaultOf(p modules.Param) cty.Value {
	if p.Default != cty.NilVal {
		return p.Default
	}
	return cty.NullVal(p.Type)
}

// argError is a module argument that does not fit its parameter: Summary
// and Detail for a load-time diagnostic, Short for a run-time error that
// already names the argument.
type argError struct{ Summary, Detail, Short string }

// convertArg converts v to p's type and enforces Secret and OneOf. Marks
// (secrets) survive the conversion.
func convertArg(p modules.Param, v cty.Value) (cty.Value, *argError) {
	raw, marks := v.UnmarkDeep()
	if !raw.IsWhollyKnown() {
		return cty.NilVal, &argError{"Invalid argument value", fmt.Sprintf("The value of %q is not known.", p.Name), "is not known"}
	}
	conv, err := convert.Convert(raw, p.Type)
	if err != nil {
		return cty.NilVal, &argError{"Incorrect argument type",
			fmt.Sprintf("Argument %q must be %s: %s.", p.Name, p.Type.FriendlyName(), err),
			fmt.Sprintf("must be %s: %s", p.Type.FriendlyName(), err)}
	}
	if conv.IsNull() {
		if p.Required {
			return cty.NilVal, &argError{"Invalid argument value", fmt.Sprintf("Argument %q is required and must not be null.", p.Name), "is required and must not be null"}
		}
		return defaultOf(p), nil
	}
	if p.Secret {
		if _, ok := marks[secret.Mark]; !ok {
			return cty.NilVal, &argError{"Secret in plain text",
				fmt.Sprintf("Argument %q is a secret: it must come from env(\"...\") or file(\"...\").", p.Name),
				"is a secret: it must come from env() or file(), not plain text"}
		}
	}
	if len(p.OneOf) > 0 && conv.Type() == cty.String {
		if s := conv.AsString(); !contains(p.OneOf, s) {
			return cty.NilVal, &argError{"Invalid value for argument",
				fmt.Sprintf("Argument %q is %q; it must be one of %s.%s", p.Name, s, strings.Join(quoteAll(p.OneOf), ", "), didYouMean(s, p.OneOf)),
				fmt.Sprintf("%q is not one of %s", s, strings.Join(quoteAll(p.OneOf), ", "))}
		}
	}
	return conv.WithMarks(marks), nil
}

func quoteAll(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

func friendly(v cty.Value) string {
	if v.IsNull() {
		return "null"
	}
	return v.Type().FriendlyName()
}

// diagError turns diagnostics met at run time into an error, one line per
// diagnostic with its location.
func diagError(diags hcl.Diagnostics) error {
	var errs []error
	for _, d := range diags.Errs() {
		errs = append(errs, d)
	}
	return errors.Join(errs...)
}
