package playbook

import (
	"fmt"
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// variable is a declared `variable` block.
type variable struct {
	name      string
	typ       cty.Type
	value     cty.Value // cty.NilVal until a default or an override sets it
	declRange hcl.Range
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "default"}, {Name: "description"}, {Name: "type"}},
}

// decodeVariables reads the variable blocks, then applies var files (in
// order) and --var values, the later overriding the earlier.
func (d *decoder) decodeVariables(vars map[string]string, varFiles []string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	d.vars = map[string]*variable{}
	for _, b := range d.f.variables {
		name := b.Labels[0]
		if !hclsyntax.ValidIdentifier(name) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid variable name",
				Detail:   "A variable name must start with a letter and contain only letters, digits, underscores and dashes.",
				Subject:  b.LabelRanges[0].Ptr(),
			})
			continue
		}
		if prev, dup := d.vars[name]; dup {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate variable",
				Detail:   fmt.Sprintf("Variable %q was already declared at %s.", name, prev.declRange),
				Subject:  b.LabelRanges[0].Ptr(),
			})
			continue
		}
		v := &variable{name: name, typ: cty.DynamicPseudoType, value: cty.NilVal, declRange: b.DefRange}
		d.vars[name] = v
		content, more := b.Body.Content(variableSchema)
		diags = append(diags, more...)
		if attr, ok := content.Attributes["description"]; ok {
			_, more := staticString(attr, nil)
			diags = append(diags, more...)
		}
		if attr, ok := content.Attributes["type"]; ok {
			ty, more := typeexpr.TypeConstraint(attr.Expr)
			diags = append(diags, more...)
			if !more.HasErrors() {
				v.typ = ty
			}
		}
		if attr, ok := content.Attributes["default"]; ok {
			val, more := attr.Expr.Value(&hcl.EvalContext{Functions: d.funcs})
			diags = append(diags, more...)
			if !more.HasErrors() {
				conv, err := convert.Convert(val, v.typ)
				if err != nil {
					v.value = cty.NullVal(v.typ) // reported here, not again as missing
					diags = append(diags, attrError(attr, "Invalid default value for variable",
						fmt.Sprintf("The default does not match the variable's type: %s.", err)))
				} else {
					v.value = conv
				}
			}
		}
	}
	for _, path := range varFiles {
		diags = append(diags, d.applyVarFile(path)...)
	}
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names) // deterministic diagnostics
	for _, k := range names {
		diags = append(diags, d.applyVar(k, vars[k])...)
	}
	for _, b := range d.f.variables {
		v, ok := d.vars[b.Labels[0]]
		if ok && v.value == cty.NilVal {
			v.value = cty.NullVal(v.typ) // reported once, below
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing value for variable",
				Detail:   fmt.Sprintf("Variable %q has no default; give it with --var %s=VALUE or in a --var-file.", v.name, v.name),
				Subject:  b.DefRange.Ptr(),
			})
		}
	}
	d.varsBroken = diags.HasErrors()
	return diags
}

func (d *decoder) applyVarFile(path string) hcl.Diagnostics {
	hf, diags := parseHCLFile(d.f.parser, path)
	if diags.HasErrors() || hf == nil {
		return diags
	}
	attrs, more := hf.Body.JustAttributes()
	diags = append(diags, more...)
	ctx := &hcl.EvalContext{Functions: withTry(functionsFor(filepath.Dir(path)))}
	for _, attr := range sortedAttrs(attrs) {
		v, ok := d.vars[attr.Name]
		if !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Undeclared variable",
				Detail:   fmt.Sprintf("The playbook declares no variable %q.%s", attr.Name, didYouMean(attr.Name, d.varNames())),
				Subject:  attr.NameRange.Ptr(),
			})
			continue
		}
		val, more := attr.Expr.Value(ctx)
		diags = append(diags, more...)
		if more.HasErrors() {
			continue
		}
		conv, err := convert.Convert(val, v.typ)
		if err != nil {
			diags = append(diags, attrError(attr, "Invalid value for variable",
				fmt.Sprintf("Variable %q: %s.", v.name, err)))
			continue
		}
		v.value = conv
	}
	return diags
}

// applyVar sets a variable from --var. The raw text is the value of a
// string variable; for other types it is read as an HCL expression, so
// --var retries=3 and --var 'hosts=["a","b"]' both work.
func (d *decoder) applyVar(name, raw string) hcl.Diagnostics {
	v, ok := d.vars[name]
	if !ok {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Undeclared variable",
			Detail:   fmt.Sprintf("--var %s: the playbook declares no variable %q.%s", name, name, didYouMean(name, d.varNames())),
		}}
	}
	val := cty.StringVal(raw)
	if v.typ != cty.String && v.typ != cty.DynamicPseudoType {
		expr, diags := hclsyntax.ParseExpression([]byte(raw), "--var "+name, hcl.InitialPos)
		if !diags.HasErrors() {
			val, diags = expr.Value(nil)
		}
		if diags.HasErrors() {
			return hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for variable",
				Detail:   fmt.Sprintf("--var %s=%s: variable %q is a %s; write its value as an HCL literal.", name, raw, name, v.typ.FriendlyName()),
			}}
		}
	}
	conv, err := convert.Convert(val, v.typ)
	if err != nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for variable",
			Detail:   fmt.Sprintf("--var %s: %s.", name, err),
		}}
	}
	v.value = conv
	return nil
}

func (d *decoder) varNames() []string {
	names := make([]string, 0, len(d.vars))
	for n := range d.vars {
		names = append(names, n)
	}
	return names
}

// varObject is the `var` namespace.
func (d *decoder) varObject() (cty.Value, map[string]cty.Value) {
	vals := make(map[string]cty.Value, len(d.vars))
	for n, v := range d.vars {
		if v.value != cty.NilVal {
			vals[n] = v.value
		}
	}
	if len(vals) == 0 {
		return cty.EmptyObjectVal, vals
	}
	return cty.ObjectVal(vals), vals
}

func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Range.Start.Byte < out[j].Range.Start.Byte })
	return out
}
