package verify

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A farm of 60 front-ends upgraded one at a time, with on_failure waves to
// run from each of its hundreds of stopping points: the verifier must stay
// quick enough to run before every apply.
func TestLargeFarm(t *testing.T) {
	var inv strings.Builder
	for z := range 3 {
		fmt.Fprintf(&inv, "zone \"z%d\" {}\n", z)
	}
	for i := range 60 {
		roles := ""
		if i == 0 {
			roles = `roles = ["controller", "frontend"]`
		}
		stack := []string{"dotnet", "j2ee"}[i%2]
		fmt.Fprintf(&inv, "host \"fe%02d\" {\n  address = \"10.0.%d.%d\"\n  stack = %q\n  zone = zone.z%d\n  %s\n}\n", i, i%3, i, stack, i%3, roles)
	}
	path := filepath.Join(t.TempDir(), "inventory.hcl")
	if err := os.WriteFile(path, []byte(inv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	farm := loadInventory(t, path)

	src := readFile(t, filepath.Join("testdata", "upgrade.hcl"))
	src = replace(t, src, "  hosts  = group.loaded\n  serial = [\"50%\"]", "  hosts  = group.loaded\n  serial = 1")
	src += `
on_failure "restore_rotation" {
  hosts  = group.frontends
  serial = 1

  task "lb_member" "back_in" {
    when  = !task.lb_member.out.skipped || !task.lb_member.out_loaded.skipped
    state = "enabled"
  }
}
`
	pb := decode(t, src, farm, testRegistry(t))
	tr, diags := Simulate(pb, farm, nil)
	if len(diags) > 0 {
		t.Fatal(diags.Error())
	}
	if len(tr.Steps) < 100 {
		t.Errorf("only %d steps", len(tr.Steps))
	}
}
