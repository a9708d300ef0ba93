package playbook

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// staticValue evaluates an attribute that must be known before any host
// runs, converted to ty. Null means absent. Marks are dropped: these values
// configure the runner, not modules.
func staticValue(attr *hcl.Attribute, ty cty.Type, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	v, diags := attr.Expr.Value(ctx)
	if diags.HasErrors() {
		return cty.NullVal(ty), diags
	}
	v, _ = v.UnmarkDeep()
	if !v.IsWhollyKnown() {
		return cty.NullVal(ty), hcl.Diagnostics{attrError(attr, "Invalid value", fmt.Sprintf("The value of %s must be known before the run starts.", attr.Name))}
	}
	conv, err := convert.Convert(v, ty)
	if err != nil {
		return cty.NullVal(ty), hcl.Diagnostics{attrError(attr, "Incorrect attribute value type",
			fmt.Sprintf("Inappropriate value for attribute %q: %s.", attr.Name, err))}
	}
	return conv, nil
}

// staticDuration evaluates a duration string such as "10m".
func staticDuration(attr *hcl.Attribute, ctx *hcl.EvalContext) (time.Duration, hcl.Diagnostics) {
	s, diags := staticString(attr, ctx)
	if diags.HasErrors() || s == "" {
		return 0, diags
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, hcl.Diagnostics{attrError(attr, "Invalid duration",
			fmt.Sprintf("%q is not a duration; write a number with a unit, such as \"30s\", \"10m\" or \"1h30m\".", s))}
	}
	return d, nil
}

// staticBool evaluates a bool; absent (null) reports ok=false.
func staticBool(attr *hcl.Attribute, ctx *hcl.EvalContext) (val, ok bool, diags hcl.Diagnostics) {
	v, diags := staticValue(attr, cty.Bool, ctx)
	if diags.HasErrors() || v.IsNull() {
		return false, false, diags
	}
	return v.True(), true, diags
}

// staticInt evaluates a whole number within [lo, hi].
func staticInt(attr *hcl.Attribute, ctx *hcl.EvalContext, lo, hi int) (int, hcl.Diagnostics) {
	v, diags := staticValue(attr, cty.Number, ctx)
	if diags.HasErrors() || v.IsNull() {
		return 0, diags
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		return 0, hcl.Diagnostics{attrError(attr, "Invalid value", fmt.Sprintf("%s must be a whole number.", attr.Name))}
	}
	n, _ := bf.Int64()
	if n < int64(lo) || n > int64(hi) {
		return 0, hcl.Diagnostics{attrError(attr, "Invalid value", fmt.Sprintf("%s must be between %d and %d.", attr.Name, lo, hi))}
	}
	return int(n), nil
}

func attrError(attr *hcl.Attribute, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
		Subject:  attr.Expr.Range().Ptr(),
		Context:  attr.Range.Ptr(),
	}
}

// callsFunction reports whether expr calls any function. Such expressions
// are not evaluated at load time: env() and file() read the machine.
func callsFunction(expr hcl.Expression) bool {
	se, ok := expr.(hclsyntax.Expression)
	if !ok {
		return true
	}
	found := false
	_ = hclsyntax.VisitAll(se, func(n hclsyntax.Node) hcl.Diagnostics {
		if _, ok := n.(*hclsyntax.FunctionCallExpr); ok {
			found = true
		}
		return nil
	})
	return found
}

// callsSecretFunction reports whether expr calls env() or file(), the only
// sources of secret-marked values.
func callsSecretFunction(expr hcl.Expression) bool {
	se, ok := expr.(hclsyntax.Expression)
	if !ok {
		return false
	}
	found := false
	_ = hclsyntax.VisitAll(se, func(n hclsyntax.Node) hcl.Diagnostics {
		if fc, ok := n.(*hclsyntax.FunctionCallExpr); ok && (fc.Name == "env" || fc.Name == "file") {
			found = true
		}
		return nil
	})
	return found
}
