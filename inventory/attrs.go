package inventory

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/osrun/osrun/inventory/secret"
)

// This file evaluates single attributes into Go values. Each helper
// reports its own located diagnostic and returns ok=false, so a caller
// keeps the previous (inherited) value when an attribute is wrong.

// value evaluates an attribute and converts it to ty, rejecting null and
// unknown results.
func (l *loader) value(a *hcl.Attribute, ty cty.Type) (cty.Value, bool) {
	v, diags := a.Expr.Value(l.ctx)
	l.diags = l.diags.Extend(diags)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	if v.IsNull() {
		l.errorf(a.Expr.Range(), &a.Range, "Missing value",
			"The argument %q must not be null.", a.Name)
		return cty.NilVal, false
	}
	if !v.IsWhollyKnown() {
		l.errorf(a.Expr.Range(), &a.Range, "Unknown value",
			"The argument %q must be known when the inventory loads.", a.Name)
		return cty.NilVal, false
	}
	if ty == cty.DynamicPseudoType {
		return v, true
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		l.errorf(a.Expr.Range(), &a.Range, "Incorrect attribute value type",
			"Inappropriate value for attribute %q: %s.", a.Name, err)
		return cty.NilVal, false
	}
	return cv, true
}

// plain is value for settings that must not be secrets: a secret used as,
// say, a user name would be unmarked and could then be printed.
func (l *loader) plain(a *hcl.Attribute, ty cty.Type) (cty.Value, bool) {
	v, ok := l.value(a, ty)
	if !ok {
		return v, false
	}
	if secret.IsMarked(v) {
		l.errorf(a.Expr.Range(), &a.Range, "Secret not allowed here",
			"The argument %q is shown in plans and logs, so it cannot come from env() or file().", a.Name)
		return cty.NilVal, false
	}
	return v, true
}

func (l *loader) str(a *hcl.Attribute) (string, bool) {
	v, ok := l.plain(a, cty.String)
	if !ok {
		return "", false
	}
	return v.AsString(), true
}

func (l *loader) boolean(a *hcl.Attribute) (bool, bool) {
	v, ok := l.plain(a, cty.Bool)
	if !ok {
		return false, false
	}
	return v.True(), true
}

// port reads a TCP port number.
func (l *loader) port(a *hcl.Attribute) (int, bool) {
	v, ok := l.plain(a, cty.Number)
	if !ok {
		return 0, false
	}
	var n int
	if err := gocty.FromCtyValue(v, &n); err != nil || n < 1 || n > 65535 {
		l.errorf(a.Expr.Range(), &a.Range, "Invalid port",
			"The argument %q must be a whole number from 1 to 65535, not %s.", a.Name, v.AsBigFloat().Text('g', -1))
		return 0, false
	}
	return n, true
}

// duration reads a Go duration string such as "10s" or "2h".
func (l *loader) duration(a *hcl.Attribute) (time.Duration, bool) {
	s, ok := l.str(a)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		l.errorf(a.Expr.Range(), &a.Range, "Invalid duration",
			"The argument %q must be a positive duration such as \"30s\", \"10m\" or \"2h\", not %q.", a.Name, s)
		return 0, false
	}
	return d, true
}

// enum reads a string that must be one of allowed.
func (l *loader) enum(a *hcl.Attribute, summary string, allowed ...string) (string, bool) {
	s, ok := l.str(a)
	if !ok {
		return "", false
	}
	for _, x := range allowed {
		if s == x {
			return s, true
		}
	}
	l.errorf(a.Expr.Range(), &a.Range, summary,
		"The argument %q must be one of %s, not %q.%s", a.Name, quoteList(allowed), s, didYouMean(s, allowed))
	return "", false
}

// path reads a file path, resolved against the inventory's directory.
func (l *loader) path(a *hcl.Attribute) (string, bool) {
	s, ok := l.str(a)
	if !ok {
		return "", false
	}
	return expandPath(l.baseDir, s), true
}

// strings reads a list of strings. Elements are evaluated one by one when
// the expression is a literal list, so an error points at the element.
func (l *loader) strings(a *hcl.Attribute, each func(s string, rng hcl.Range) bool) ([]string, bool) {
	var out []string
	ok := true
	if elems, diags := hcl.ExprList(a.Expr); !diags.HasErrors() {
		for _, e := range elems {
			tmp := &hcl.Attribute{Name: a.Name, Expr: e, Range: a.Range, NameRange: a.NameRange}
			s, good := l.str(tmp)
			if good && each != nil {
				good = each(s, e.Range())
			}
			if !good {
				ok = false
				continue
			}
			out = append(out, s)
		}
		return out, ok
	}
	v, good := l.plain(a, cty.List(cty.String))
	if !good {
		return nil, false
	}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			l.errorf(a.Expr.Range(), &a.Range, "Missing value", "The list %q must not contain null.", a.Name)
			return nil, false
		}
		s := e.AsString()
		if each != nil && !each(s, a.Expr.Range()) {
			ok = false
			continue
		}
		out = append(out, s)
	}
	return out, ok
}

// secretValue reads a credential, which must come from env() or file().
func (l *loader) secretValue(a *hcl.Attribute) (secret.Value, bool) {
	v, ok := l.value(a, cty.String)
	if !ok {
		return secret.Value{}, false
	}
	s, isSecret := secret.FromCty(v)
	if !isSecret {
		l.errorf(a.Expr.Range(), &a.Range, "Secret in plain text",
			"The argument %q is a credential and must be a reference such as env(\"OSRUN_PASSWORD\") or file(\"secrets/password\"), never a literal: inventories are committed and shared.", a.Name)
		return secret.Value{}, false
	}
	return s, true
}

func (l *loader) errorf(subject hcl.Range, context *hcl.Range, summary, detail string, args ...any) {
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(detail, args...),
		Subject:  subject.Ptr(),
	}
	if context != nil && *context != subject {
		c := *context
		d.Context = &c
	}
	l.diags = append(l.diags, d)
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	if len(q) <= 1 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
