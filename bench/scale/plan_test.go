package scale

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules/builtin"
	"github.com/osrun/osrun/runner"
	"github.com/osrun/osrun/runner/playbook"
	"github.com/osrun/osrun/runner/verify"
)

const upgradePlaybook = "../../playbooks/upgrade.hcl"

// writeInventory writes an inventory of hosts front-ends in zones zones,
// mixed stacks (odd hosts .NET over WinRM, even ones J2EE over SSH), the
// first host of each zone a controller and half of each zone updating —
// the shape of the lab farm's inventory, without a lab behind it.
func writeInventory(tb testing.TB, hosts, zones int) string {
	tb.Helper()
	var b strings.Builder
	b.WriteString(`defaults {
  ssh {
    user = "osrun"
  }
  winrm {
    user     = "Administrator"
    password = file("winrm-password")
  }
}

load_balancer "lb" {
  driver  = "haproxy"
  address = "127.0.0.1:9999"
  backend = "farm"
}

service_center "sc" {
  driver = "http"
  url    = "http://127.0.0.1:9998"
}
`)
	for z := 1; z <= zones; z++ {
		fmt.Fprintf(&b, "\nzone \"zone%d\" {\n  load_balancer  = load_balancer.lb\n  service_center = service_center.sc\n}\n", z)
	}
	perZone := hosts / zones
	var updating, loaded []string
	for i := range hosts {
		z, k := i/perZone+1, i%perZone
		name := fmt.Sprintf("fe%05d", i+1)
		stack, transport := "j2ee", "ssh"
		if i%2 == 1 {
			stack, transport = "dotnet", "winrm"
		}
		roles := `["frontend"]`
		if z == 1 && k == 0 {
			roles = `["controller", "frontend"]`
		}
		fmt.Fprintf(&b, "\nhost %q {\n  address   = \"10.%d.%d.%d\"\n  stack     = %q\n  transport = %q\n  zone      = zone.zone%d\n  roles     = %s\n}\n",
			name, z, k/250, k%250+1, stack, transport, z, roles)
		if k < perZone/2 {
			updating = append(updating, "host."+name)
		} else {
			loaded = append(loaded, "host."+name)
		}
	}
	fmt.Fprintf(&b, "\nsplit {\n  updating = [%s]\n  loaded   = [%s]\n}\n", strings.Join(updating, ", "), strings.Join(loaded, ", "))
	dir := tb.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "winrm-password"), []byte("not-used"), 0o600); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, "inventory.hcl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

var planVars = map[string]string{
	"target_version":   "11.31.0",
	"dotnet_installer": "PlatformServer-11.31.0.exe",
	"j2ee_installer":   "platform-server-j2ee-11.31.0.sh",
}

// plan is what `osrun plan -i inv playbooks/upgrade.hcl` does before it
// prints: parse the playbook, load the inventory, decode the playbook
// against it, run the plan verifier, and plan.
func plan(tb testing.TB, inv string) *runner.PlanResult {
	parser := hclparse.NewParser()
	file, diags := playbook.Parse(parser, upgradePlaybook)
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	in, diags := inventory.Load(parser, inv)
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	reg, err := builtin.Registry(builtin.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	pb, diags := file.Decode(in, reg, planVars, nil)
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	if diags := verify.Verify(pb, in, nil); diags.HasErrors() {
		tb.Fatal(diags)
	}
	p, err := runner.Plan(pb, in, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// BenchmarkPlan is `osrun plan` (load, decode, verify, plan) on 20 hosts
// (the baseline) and 2,000 hosts, 4 zones each. Compare ns/op: the ratio
// is the cost of 100 times the hosts (100 would be linear).
//
//	go test ./bench/scale -run '^$' -bench Plan -benchmem
func BenchmarkPlan(b *testing.B) {
	for _, hosts := range []int{20, 2000} {
		b.Run(fmt.Sprintf("hosts=%d", hosts), func(b *testing.B) {
			inv := writeInventory(b, hosts, 4)
			b.ReportAllocs()
			for b.Loop() {
				plan(b, inv)
			}
		})
	}
}

// TestPlanInventory keeps the generated inventory valid for the benchmark.
func TestPlanInventory(t *testing.T) {
	p := plan(t, writeInventory(t, 40, 4))
	if len(p.Waves) == 0 {
		t.Fatal("empty plan")
	}
}
