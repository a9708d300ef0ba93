// Package inventory loads and validates the HCL description of an
// OutSystems farm: hosts with their stack, zone and roles, connection
// defaults, groups, load balancers, Service Center endpoints and the
// balanced split of front-ends into an updating and a loaded set.
//
// Entry points: Load (a file, through the CLI's shared hclparse.Parser so
// diagnostics render with snippets) and LoadSource (in-memory source).
// Both return an *Inventory, or nil together with located
// hcl.Diagnostics. Functions gives the HCL functions that inventories and
// playbooks share; Inventory.HostValue is the `host` object of playbooks.
//
// # Language
//
//	defaults {
//	  ssh   { user = "osadmin"  private_key = "~/.ssh/id_ed25519"  passphrase = env("OSRUN_KEY_PASSPHRASE")
//	          jump { address = "bastion.example" } }
//	  winrm { user = "CORP\\osadmin"  password = env("OSRUN_WINRM_PASSWORD") }
//	}
//	load_balancer "main"   { driver = "haproxy"  socket = "/run/haproxy/admin.sock" }
//	service_center "main"  { driver = "http"  url = "https://sc.example/" }
//	zone "lisbon" { load_balancer = load_balancer.main  service_center = service_center.main }
//	host "fe01" {
//	  address = "10.0.0.11"
//	  stack   = "dotnet"                   # dotnet: winrm, j2ee: ssh; transport = "local"|"ssh"|"winrm" overrides
//	  zone    = zone.lisbon                # default: the implicit zone "default"
//	  roles   = ["controller", "frontend"] # default: ["frontend"]
//	  member  = "FE01"                     # the load balancer's name for it; default: the label
//	  winrm { port = 5985  https = false } # merged over defaults argument by argument
//	  vars    = { site = "lisbon" }
//	}
//	group "lisbon" { hosts = [host.fe01, group.other] }
//	split { updating = [host.fe01, host.fe02]  loaded = [group.lisbon_rest] }
//
// References are bare traversals (host.NAME, group.NAME, zone.NAME,
// load_balancer.NAME, service_center.NAME), never strings, and may point
// forward. Groups nest; cycles are errors. Members of every group keep
// the hosts' declaration order, without duplicates. The built-in groups
// all, controller, frontends, updating and loaded cannot be redeclared;
// updating and loaded are the split, so user groups cannot contain them.
//
// A zone with no load_balancer (or service_center) uses the only one
// declared; with several declared it must name one.
//
// Exactly one host has the controller role. Without a split block the
// split is computed per zone: the controller and the first half, rounded
// down, of the zone's other front-ends are updating, the rest loaded.
// Declared or computed, every zone with front-ends must keep at least one
// in each set, the controller is always updating, and a declared split
// must place every front-end exactly once.
//
// Credentials (password, passphrase, become_password, and any driver
// setting named password, token, secret, api_key or ending in
// _password, _passphrase, _token, _secret) must come from env("NAME") or
// file("path"); they load as secret.Value, or as cty values marked with
// secret.Mark in Endpoint.Settings and Host.Vars, and never print.
// Durations are Go duration strings ("10s", "2h"). Relative paths are
// relative to the inventory's folder, and ~ is the home directory.
//
// After merging, unset connection settings get the built-in defaults:
// SSH port 22 and host_key_checking "strict" (jump hosts inherit the
// target's user and host_key_checking), WinRM over HTTPS on 5986 (5985
// when https = false) with NTLM.
package inventory
