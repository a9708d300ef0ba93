package verify

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// report gathers findings so that a task breaking a rule on many hosts or
// batches gives one diagnostic naming the first occurrence in full and the
// others briefly, instead of one per host.
type report struct {
	order []*finding
	byKey map[string]*finding
}

// maxMore bounds the further occurrences a diagnostic lists.
const maxMore = 5

type finding struct {
	severity hcl.DiagnosticSeverity
	summary  string
	subject  hcl.Range
	context  *hcl.Range
	detail   string   // the first occurrence
	advice   string   // what to do, said once
	first    string   // the first occurrence, briefly
	more     []string // further occurrences, briefly
}

func newReport() *report { return &report{byKey: map[string]*finding{}} }

// add records a finding under key. The first add of a key gives the
// diagnostic its detail; later ones only add short to the list of further
// occurrences.
func (r *report) add(key string, f finding, short string) {
	if prev, ok := r.byKey[key]; ok {
		if short != "" && short != prev.first && !contains(prev.more, short) {
			prev.more = append(prev.more, short)
		}
		return
	}
	nf := f
	nf.first = short
	r.byKey[key] = &nf
	r.order = append(r.order, &nf)
}

func (r *report) diagnostics() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, f := range r.order {
		detail := f.detail
		if more := f.more; len(more) > 0 {
			if len(more) > maxMore {
				more = append(more[:maxMore:maxMore], fmt.Sprintf("%d more times", len(f.more)-maxMore))
			}
			detail += fmt.Sprintf(" The same happens %s.", strings.Join(more, "; "))
		}
		if f.advice != "" {
			detail += " " + f.advice
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: f.severity,
			Summary:  f.summary,
			Detail:   detail,
			Subject:  f.subject.Ptr(),
			Context:  f.context,
		})
	}
	return diags
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// nameList writes hosts as "fe01, fe02 and fe03".
func nameList(names []string) string {
	switch len(names) {
	case 0:
		return "no host"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
