package lbmember_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/lbmember"
	"github.com/osrun/osrun/runner/playbook"
)

// The documented example is a playbook the loader accepts, against an
// inventory with a load_balancer block as the README shows it.
func TestExampleDecodes(t *testing.T) {
	dir := t.TempDir()
	inv, diags := inventory.LoadSource(hclparse.NewParser(), filepath.Join(dir, "inventory.hcl"), []byte(`
load_balancer "main" {
  driver  = "haproxy"
  socket  = "/run/haproxy/admin.sock"
  backend = "outsystems"
}
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
`))
	if diags.HasErrors() {
		t.Fatalf("inventory: %s", diags.Error())
	}
	def := lbmember.Definition(lbmember.Options{})
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
	// The inventory's endpoint opens with the built-in haproxy driver.
	if _, err := lbmember.Builtin().Open(inv.LoadBalancers["main"]); err != nil {
		t.Errorf("open the README's load balancer: %v", err)
	}
}
