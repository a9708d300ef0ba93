package builtin

import (
	"strings"
	"testing"
)

func TestRegistryHasTheProcedureModules(t *testing.T) {
	reg, err := Registry(Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(reg.Names(), " ")
	want := "command gate http_check installer lb_member sc_frontend service wait_deployer"
	if got != want {
		t.Errorf("modules = %q, want %q", got, want)
	}
	for _, name := range reg.Names() {
		d, _ := reg.Lookup(name)
		if d.Summary == "" || d.Doc == "" || d.Example == "" {
			t.Errorf("%s: Summary, Doc and Example are the user's documentation; all three are required", name)
		}
		for _, p := range d.Params {
			if p.Doc == "" {
				t.Errorf("%s: parameter %s has no Doc", name, p.Name)
			}
		}
	}
}
