package servicecenter_test

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/lab/servicecenter"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/scfrontend"
	"github.com/osrun/osrun/modules/waitdeployer"
)

// The Service Center side of the balanced upgrade, driven by osrun's own
// modules against the simulator: done in the guide's order no loaded
// front-end ever breaks; skipping "disable deployment" breaks them.
func TestBalancedUpgradeThroughTheModules(t *testing.T) {
	for _, tt := range []struct {
		name              string
		disableLoaded     bool
		wantBrokenLoaded  []string
		wantLoadedUpgrade bool
	}{
		{"guide order", true, nil, true},
		{"deployment left enabled on loaded front-ends", false, []string{"fe03", "fe04"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sim, err := servicecenter.New(servicecenter.Options{Version: "11.29.1", DeployTime: 30 * time.Second},
					servicecenter.Frontend{Name: "ctl"}, servicecenter.Frontend{Name: "fe02"},
					servicecenter.Frontend{Name: "fe03"}, servicecenter.Frontend{Name: "fe04"})
				if err != nil {
					t.Fatal(err)
				}
				envs := farm("ctl", "fe02", "fe03", "fe04")
				scOpts := scfrontend.Options{Transport: sim.Transport()}
				disable := action(t, scfrontend.Definition(scOpts), map[string]string{"deployment": "disabled"})
				enable := action(t, scfrontend.Definition(scOpts), map[string]string{"deployment": "enabled"})
				wait := action(t, waitdeployer.Definition(waitdeployer.Options{Transport: sim.Transport()}), map[string]string{"stable": "10s"})
				apply := func(a modules.Action, hosts ...string) {
					t.Helper()
					for _, h := range hosts {
						if _, err := a.Apply(t.Context(), envs[h]); err != nil {
							t.Fatalf("%s: %v", h, err)
						}
					}
				}
				loaded := []string{"fe03", "fe04"}

				if tt.disableLoaded {
					apply(disable, loaded...)
				}
				// Controller and updating front-ends (out of rotation).
				for _, h := range []string{"ctl", "fe02"} {
					sim.SetDeployerRunning(h, false)
					sim.FrontendUpgraded(h, "11.31.0")
					if h == "ctl" {
						sim.PlatformUpgraded("11.31.0")
					}
					sim.SetDeployerRunning(h, true)
				}
				apply(wait, "ctl", "fe02")
				if got := sim.Broken(); !slices.Equal(got, tt.wantBrokenLoaded) {
					t.Fatalf("Broken() while the loaded front-ends serve = %v, want %v", got, tt.wantBrokenLoaded)
				}
				if !tt.wantLoadedUpgrade {
					return
				}
				// Loaded front-ends, now out of rotation.
				for _, h := range loaded {
					sim.SetDeployerRunning(h, false) // the installer stops it
					sim.FrontendUpgraded(h, "11.31.0")
				}
				apply(enable, loaded...)
				for _, h := range loaded {
					sim.SetDeployerRunning(h, true)
				}
				apply(wait, loaded...)
				for _, f := range sim.Frontends() {
					if f.AppsVersion != "11.31.0" || f.Broken || !f.DeploymentEnabled {
						t.Errorf("end state of %s: %+v", f.Name, f)
					}
				}
				// An updating front-end may break for a while (the controller's
				// new components reach it before its own upgrade) while it is out
				// of rotation; a loaded one never may.
				for _, e := range sim.History() {
					if e.Kind == servicecenter.Broke && slices.Contains(loaded, e.Frontend) {
						t.Errorf("%s broke at %v: %s", e.Frontend, e.At, e.What)
					}
				}
			})
		})
	}
}

func farm(names ...string) map[string]*modules.Env {
	inv := &inventory.Inventory{
		Zones: []*inventory.Zone{{Name: "z1", ServiceCenter: "sc"}},
		ServiceCenters: map[string]*inventory.Endpoint{"sc": {Name: "sc", Driver: "http",
			Settings: inventory.Values{"url": cty.StringVal("http://sc.lab.invalid")}}},
	}
	envs := map[string]*modules.Env{}
	for _, n := range names {
		h := &inventory.Host{Name: n, Zone: "z1"}
		inv.Hosts = append(inv.Hosts, h)
		inv.Zones[0].Hosts = append(inv.Zones[0].Hosts, h)
		envs[n] = &modules.Env{Host: h, Inventory: inv, Progress: func(string) {}}
	}
	return envs
}

func action(t *testing.T, def *modules.Definition, args map[string]string) modules.Action {
	t.Helper()
	a := modules.Args{}
	for _, p := range def.Params {
		a[p.Name] = cty.NullVal(p.Type)
		if p.Default != cty.NilVal {
			a[p.Name] = p.Default
		}
	}
	for k, v := range args {
		a[k] = cty.StringVal(v)
	}
	act, err := def.New(a)
	if err != nil {
		t.Fatal(err)
	}
	return act
}
