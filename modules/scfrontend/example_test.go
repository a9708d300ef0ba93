package scfrontend_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/lab/servicecenter"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/scfrontend"
	"github.com/osrun/osrun/runner/playbook"
)

const farmHCL = `
service_center "sc" {
  driver = "http"
  url    = "%URL%"
  token  = env("OSRUN_TEST_SC_TOKEN")
}

zone "default" {
  service_center = service_center.sc
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
`

// The module's documented example decodes, and a service_center block
// loaded from HCL, its token from env(), reaches the simulator.
func TestExampleWithARealInventory(t *testing.T) {
	sim, err := servicecenter.New(servicecenter.Options{Version: "11.29.1", Token: "from-env"},
		servicecenter.Frontend{Name: "ctl"}, servicecenter.Frontend{Name: "fe02"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	t.Setenv("OSRUN_TEST_SC_TOKEN", "from-env")

	dir := t.TempDir()
	src := []byte(strings.ReplaceAll(farmHCL, "%URL%", srv.URL))
	inv, diags := inventory.LoadSource(hclparse.NewParser(), filepath.Join(dir, "inventory.hcl"), src)
	if diags.HasErrors() {
		t.Fatalf("inventory: %s", diags.Error())
	}
	def := scfrontend.Definition(scfrontend.Options{})
	reg, err := modules.NewRegistry(def)
	if err != nil {
		t.Fatal(err)
	}
	pbPath := filepath.Join(dir, "example.hcl")
	if err := os.WriteFile(pbPath, []byte(def.Example), 0o600); err != nil {
		t.Fatal(err)
	}
	f, diags := playbook.Parse(hclparse.NewParser(), pbPath)
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

	host := inv.Hosts[1]
	act := newAction(t, def, map[string]cty.Value{"deployment": cty.StringVal("disabled")})
	r, err := act.Apply(t.Context(), &modules.Env{Host: host, Inventory: inv})
	if err != nil || !r.Changed {
		t.Fatalf("Apply = %+v, %v", r, err)
	}
	if f, _ := sim.Frontend(host.Name); f.DeploymentEnabled {
		t.Errorf("%s still enabled", host.Name)
	}
}
