package scfrontend_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/lab/servicecenter"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/moduletest"
	"github.com/osrun/osrun/modules/scfrontend"
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
` + moduletest.Hosts

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

	def := scfrontend.Definition(scfrontend.Options{})
	inv := moduletest.CheckExample(t, def, strings.ReplaceAll(farmHCL, "%URL%", srv.URL))

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
