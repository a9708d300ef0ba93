package farm

import (
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/osrun/osrun/lab/linux"
)

func pemEncode(b *pem.Block) []byte { return pem.EncodeToMemory(b) }

// writeInstallers puts the installers the playbook uploads on the "control
// machine": a PlatformServer-<version>.exe the Windows hosts recognise by
// its version line, and the J2EE installer script.
func (f *Farm) writeInstallers() error {
	dir := filepath.Join(f.dir, "installers")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	exe := filepath.Join(dir, "PlatformServer-"+f.cfg.ToVersion+".exe")
	if err := os.WriteFile(exe, []byte("MZ osrun lab Platform Server installer\nversion="+f.cfg.ToVersion+"\n"), 0o644); err != nil {
		return err
	}
	sh := filepath.Join(dir, "platform-server-j2ee-"+f.cfg.ToVersion+".sh")
	if err := os.WriteFile(sh, linux.InstallerScript(f.cfg.InstallTime), 0o644); err != nil {
		return err
	}
	f.vars = map[string]string{
		"target_version":   f.cfg.ToVersion,
		"dotnet_installer": exe,
		"j2ee_installer":   sh,
		"drain_timeout":    "30s",
		"app_path":         "/",
	}
	return nil
}

// writeInventory writes inventory.hcl: secrets through file(), host keys
// checked strictly against the farm's known_hosts, WinRM certificates
// against the farm's CA.
func (f *Farm) writeInventory() error {
	var b strings.Builder
	fmt.Fprintf(&b, `# The lab farm's inventory, written by osrun's lab (lab/farm) for one run.
# %d zones of %d front-ends; secrets are files under secrets/.

defaults {
  ssh {
    user              = %q
    private_key       = "keys/id_ed25519"
    use_agent         = false
    known_hosts       = ["known_hosts"]
    host_key_checking = "strict"
    become            = true
    dial_timeout      = "20s"
  }
  winrm {
    user              = "Administrator"
    password          = file("secrets/winrm-password")
    https             = true
    ca_file           = "ca.pem"
    auth              = "ntlm"
    operation_timeout = "2s"
    timeout           = "10s"
  }
}

load_balancer "lab" {
  driver  = "haproxy"
  address = %q
  backend = %q
}

service_center "lab" {
  driver = "http"
  url    = %q
  token  = file("secrets/sc-token")
}
`, f.cfg.Zones, f.cfg.FrontendsPerZone, f.sshUser, f.lb.APIAddr(), f.lb.Backend(), f.scURL)
	for z := 1; z <= f.cfg.Zones; z++ {
		fmt.Fprintf(&b, "\nzone \"zone%d\" {\n  load_balancer  = load_balancer.lab\n  service_center = service_center.lab\n}\n", z)
	}
	for _, fe := range f.fes {
		roles := `["frontend"]`
		if fe.Controller {
			roles = `["controller", "frontend"]`
		}
		fmt.Fprintf(&b, "\nhost %q {\n  address = %q\n  stack   = %q\n  zone    = zone.%s\n  roles   = %s\n", fe.Name, fe.Address, fe.Stack, fe.Zone, roles)
		if fe.Windows != nil {
			fmt.Fprintf(&b, "  winrm { port = %d }\n", fe.Windows.Port())
		} else {
			fmt.Fprintf(&b, "  ssh { port = %d }\n", fe.Linux.Port())
		}
		b.WriteString("}\n")
	}
	b.WriteString(f.split())
	f.inv = filepath.Join(f.dir, "inventory.hcl")
	return os.WriteFile(f.inv, []byte(b.String()), 0o644)
}

// split declares the updating and loaded sets: per zone the first half of
// the front-ends, rounded down, are updating; the controller, first in its
// zone, is among them. Unlike the inventory's default (the
// controller plus half of the others), this keeps at least half of every
// zone loaded, which the preflight asks of the loaded set's capacity, for
// odd zone sizes too.
func (f *Farm) split() string {
	var updating, loaded []string
	for z := 1; z <= f.cfg.Zones; z++ {
		var zone []*Frontend
		for _, fe := range f.fes {
			if fe.Zone == fmt.Sprintf("zone%d", z) {
				zone = append(zone, fe)
			}
		}
		n := len(zone) / 2
		for i, fe := range zone {
			ref := "host." + fe.Name
			if i < n { // the controller is first in its zone
				updating = append(updating, ref)
			} else {
				loaded = append(loaded, ref)
			}
		}
	}
	return fmt.Sprintf("\nsplit {\n  updating = [%s]\n  loaded   = [%s]\n}\n", strings.Join(updating, ", "), strings.Join(loaded, ", "))
}
