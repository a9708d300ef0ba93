package waitdeployer_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/waitdeployer"
	"github.com/osrun/osrun/runner/playbook"
)

// The documented example is a playbook the loader accepts.
func TestExampleDecodes(t *testing.T) {
	dir := t.TempDir()
	inv, diags := inventory.LoadSource(hclparse.NewParser(), filepath.Join(dir, "inventory.hcl"), []byte(`
service_center "sc" {
  driver = "manual"
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
	def := waitdeployer.Definition(waitdeployer.Options{})
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
		switch p.Name {
		case "on", "when", "timeout", "retries", "delay", "until", "ignore_errors", "check_mode":
			t.Errorf("argument %s is a task meta-argument: the module would never receive it", p.Name)
		}
	}
}
