package inventory

import (
	"fmt"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// ref is a resolved bare reference such as host.fe01 or group.lisbon.
type ref struct {
	kind  string // "host", "group", "zone", "load_balancer" or "service_center"
	name  string
	rng   hcl.Range
	attrs *hcl.Range // the enclosing attribute, for diagnostics' Context
}

// kindNoun is how a reference kind reads in a sentence.
var kindNoun = map[string]string{
	"host":           "host",
	"group":          "group",
	"zone":           "zone",
	"load_balancer":  "load balancer",
	"service_center": "Service Center",
}

// parseRef reads expr as a bare reference whose root is one of kinds.
func (l *loader) parseRef(expr hcl.Expression, context *hcl.Range, kinds ...string) (ref, bool) {
	example := kinds[0] + ".name"
	trav, diags := hcl.AbsTraversalForExpr(expr)
	if diags.HasErrors() {
		hint := ""
		if v, d := expr.Value(nil); !d.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			name := v.AsString()
			if !strings.Contains(name, ".") {
				name = kinds[0] + "." + name
			}
			hint = fmt.Sprintf(" Write %s, not %q: a string is not a reference.", name, v.AsString())
		}
		l.errorf(expr.Range(), context, "Invalid reference",
			"Expected a reference such as %s, written bare.%s", example, hint)
		return ref{}, false
	}
	root := trav.RootName()
	okRoot := false
	for _, k := range kinds {
		okRoot = okRoot || k == root
	}
	if !okRoot {
		l.errorf(trav.SourceRange(), context, "Invalid reference",
			"Expected a reference to a %s, such as %s; %q cannot be used here.%s",
			orList(kinds), example, root, didYouMean(root, kinds))
		return ref{}, false
	}
	if len(trav) != 2 {
		l.errorf(trav.SourceRange(), context, "Invalid reference",
			"A reference names one %s, such as %s, with no further attributes or index.", kindNoun[root], example)
		return ref{}, false
	}
	step, isAttr := trav[1].(hcl.TraverseAttr)
	if !isAttr {
		l.errorf(trav.SourceRange(), context, "Invalid reference",
			"A %s is named with a dot, such as %s.", kindNoun[root], example)
		return ref{}, false
	}
	return ref{kind: root, name: step.Name, rng: trav.SourceRange(), attrs: context}, true
}

// refList reads expr as one reference or a list of references.
func (l *loader) refList(expr hcl.Expression, context *hcl.Range, kinds ...string) ([]ref, bool) {
	elems, diags := hcl.ExprList(expr)
	if diags.HasErrors() {
		r, ok := l.parseRef(expr, context, kinds...)
		if !ok {
			return nil, false
		}
		return []ref{r}, true
	}
	var out []ref
	ok := true
	for _, e := range elems {
		r, good := l.parseRef(e, context, kinds...)
		ok = ok && good
		if good {
			out = append(out, r)
		}
	}
	return out, ok
}

// unknown reports a reference to something that is not declared.
func (l *loader) unknown(r ref, declared []string) {
	noun := kindNoun[r.kind]
	l.errorf(r.rng, r.attrs, "Unknown "+noun,
		"No %s named %q is declared in this inventory.%s", noun, r.name, didYouMean(r.name, declared))
}

// didYouMean suggests the closest of candidates, the way hcl does for
// unsupported arguments.
func didYouMean(given string, candidates []string) string {
	best, bestDist := "", 3
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	for _, c := range sorted {
		if d := levenshtein.Distance(given, c, nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

func orList(xs []string) string {
	if len(xs) == 1 {
		return kindNoun[xs[0]]
	}
	s := ""
	for i, x := range xs {
		switch {
		case i == 0:
		case i == len(xs)-1:
			s += " or "
		default:
			s += ", "
		}
		s += kindNoun[x]
	}
	return s
}
