package inventory

import (
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
)

// TestJSONSyntax checks the JSON variant of HCL, where references are
// strings that hcl reads as traversals.
func TestJSONSyntax(t *testing.T) {
	src := `{
  "zone": {"a": {}},
  "host": {
    "fe01": {"address": "10.0.0.1", "stack": "j2ee", "roles": ["controller", "frontend"], "zone": "zone.a"},
    "fe02": {"address": "10.0.0.2", "stack": "j2ee", "zone": "zone.a"}
  },
  "group": {"g": {"hosts": ["host.fe01", "group.all"]}}
}`
	p := hclparse.NewParser()
	inv, diags := LoadSource(p, "inv.json", []byte(src))
	if diags.HasErrors() {
		t.Fatal(render(p, diags))
	}
	if got := names(inv.Group("g").Hosts); len(got) != 2 || inv.Host("fe02").Zone != "a" || names(inv.Split.Loaded)[0] != "fe02" {
		t.Errorf("JSON inventory decoded wrong: group g %v, zone %q", got, inv.Host("fe02").Zone)
	}
}
