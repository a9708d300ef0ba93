package moduletest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/runner/playbook"
)

// Hosts is an inventory fragment with a controller "ctl" and a front-end
// "fe02", both on the local transport: enough hosts for the examples.
const Hosts = `
host "ctl" {
  address   = "127.0.0.1"
  stack     = "j2ee"
  transport = "local"
  roles     = ["controller", "frontend"]
}
host "fe02" {
  address   = "127.0.0.1"
  stack     = "j2ee"
  transport = "local"
  roles     = ["frontend"]
}
`

// CheckExample checks that def's documented example is a playbook the
// loader accepts against the inventory inventorySrc (HCL), and that every
// parameter is documented and none is a task meta-argument. It returns the
// inventory for further checks.
func CheckExample(t testing.TB, def *modules.Definition, inventorySrc string) *inventory.Inventory {
	t.Helper()
	dir := t.TempDir()
	inv, diags := inventory.LoadSource(hclparse.NewParser(), filepath.Join(dir, "inventory.hcl"), []byte(inventorySrc))
	if diags.HasErrors() {
		t.Fatalf("inventory: %s", diags.Error())
	}
	reg, err := modules.NewRegistry(def)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "example.hcl")
	if err := os.WriteFile(path, []byte(def.Example), 0o600); err != nil {
		t.Fatal(err)
	}
	f, diags := playbook.Parse(hclparse.NewParser(), path)
	if diags.HasErrors() {
		t.Fatalf("example: %s", diags.Error())
	}
	if _, diags := f.Decode(inv, reg, nil, nil); diags.HasErrors() {
		t.Fatalf("example: %s", diags.Error())
	}
	for _, p := range def.Params {
		if p.Doc == "" {
			t.Errorf("argument %s has no documentation", p.Name)
		}
		if modules.MetaArguments[p.Name] {
			t.Errorf("argument %s is a task meta-argument: the module would never receive it", p.Name)
		}
	}
	return inv
}
