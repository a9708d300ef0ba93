package inventory

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory/secret"
)

// host writes a host block for test sources.
func host(name, extra string) string {
	return "host \"" + name + "\" {\n  address = \"" + name + ".example\"\n  stack = \"j2ee\"\n" + extra + "\n}\n"
}

const ctlFE = `roles = ["controller", "frontend"]`

func mustLoad(t *testing.T, src string) *Inventory {
	t.Helper()
	return mustLoadFile(t, filepath.Join(t.TempDir(), "inventory.hcl"), src)
}

func mustLoadFile(t *testing.T, filename, src string) *Inventory {
	t.Helper()
	parser := hclparse.NewParser()
	inv, diags := LoadSource(parser, filename, []byte(src))
	if diags.HasErrors() || inv == nil {
		t.Fatalf("load failed:\n%s", render(parser, diags))
	}
	return inv
}

func names(hosts []*Host) []string {
	out := []string{}
	for _, h := range hosts {
		out = append(out, h.Name)
	}
	return out
}

func TestSplit(t *testing.T) {
	tests := []struct {
		name             string
		src              string
		updating, loaded []string
		declared         bool
	}{
		{
			name:     "controller front-end and one other",
			src:      host("fe01", ctlFE) + host("fe02", ""),
			updating: []string{"fe01"},
			loaded:   []string{"fe02"},
		},
		{
			name:     "pure controller and two front-ends",
			src:      host("ctl", `roles = ["controller"]`) + host("fe01", "") + host("fe02", ""),
			updating: []string{"ctl", "fe01"},
			loaded:   []string{"fe02"},
		},
		{
			name:     "odd count rounds updating down",
			src:      host("fe01", ctlFE) + host("fe02", "") + host("fe03", "") + host("fe04", "") + host("fe05", ""),
			updating: []string{"fe01", "fe02", "fe03"},
			loaded:   []string{"fe04", "fe05"},
		},
		{
			name: "two zones split independently, declaration order kept",
			src: `zone "a" {}
zone "b" {}
` + host("fe01", ctlFE+"\nzone = zone.a") + host("fe03", "zone = zone.b") + host("fe02", "zone = zone.a") +
				host("fe04", "zone = zone.b") + host("fe05", "zone = zone.b"),
			updating: []string{"fe01", "fe03"},
			loaded:   []string{"fe02", "fe04", "fe05"},
		},
		{
			name: "pure controller alone in its zone",
			src: `zone "ops" {}
` + host("ctl", `roles = ["controller"]`+"\nzone = zone.ops") + host("fe01", "") + host("fe02", "") + host("fe03", "") + host("fe04", ""),
			updating: []string{"ctl", "fe01", "fe02"},
			loaded:   []string{"fe03", "fe04"},
		},
		{
			name: "declared split with groups",
			src: host("fe01", ctlFE) + host("fe02", "") + host("fe03", "") + host("fe04", "") + `
group "east" { hosts = [host.fe04, host.fe03] }
split {
  updating = [host.fe01]
  loaded   = [group.east, host.fe02]
}
`,
			updating: []string{"fe01"},
			loaded:   []string{"fe02", "fe03", "fe04"},
			declared: true,
		},
		{
			name: "declared split with non-front-end controller and a roleless host",
			src: host("ctl", `roles = ["controller"]`) + host("fe01", "") + host("fe02", "") + host("db", `roles = []`) + `
split {
  updating = [group.controller, host.fe02]
  loaded   = [host.fe01]
}
`,
			updating: []string{"ctl", "fe02"},
			loaded:   []string{"fe01"},
			declared: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := mustLoad(t, tt.src)
			if got := names(inv.Split.Updating); !slices.Equal(got, tt.updating) {
				t.Errorf("updating = %v, want %v", got, tt.updating)
			}
			if got := names(inv.Split.Loaded); !slices.Equal(got, tt.loaded) {
				t.Errorf("loaded = %v, want %v", got, tt.loaded)
			}
			if inv.Split.Declared != tt.declared {
				t.Errorf("Declared = %v, want %v", inv.Split.Declared, tt.declared)
			}
			if got := names(inv.Group(GroupUpdating).Hosts); !slices.Equal(got, tt.updating) {
				t.Errorf("group.updating = %v, want %v", got, tt.updating)
			}
			if got := names(inv.Group(GroupLoaded).Hosts); !slices.Equal(got, tt.loaded) {
				t.Errorf("group.loaded = %v, want %v", got, tt.loaded)
			}
			for _, h := range inv.Hosts {
				want := ""
				if slices.Contains(tt.updating, h.Name) {
					want = GroupUpdating
				} else if slices.Contains(tt.loaded, h.Name) {
					want = GroupLoaded
				}
				if got := inv.SplitOf(h); got != want {
					t.Errorf("SplitOf(%s) = %q, want %q", h.Name, got, want)
				}
			}
		})
	}
}

func TestDefaultsInheritance(t *testing.T) {
	t.Setenv("OSRUN_TEST_PASSPHRASE", "pp-secret")
	t.Setenv("OSRUN_TEST_WINRM", "winrm-secret")
	t.Setenv("OSRUN_TEST_OTHER", "other-secret")
	src := `
defaults {
  ssh {
    user              = "osadmin"
    port              = 2222
    private_key       = "~/.ssh/id_ed25519"
    passphrase        = env("OSRUN_TEST_PASSPHRASE")
    known_hosts       = ["known_hosts"]
    host_key_checking = "accept-new"
    become            = true
    dial_timeout      = "10s"
    command_timeout   = "2h"
    keepalive         = "15s"
    jump {
      address = "bastion.example"
      user    = "ops"
    }
  }
  winrm {
    user              = "CORP\\osadmin"
    password          = env("OSRUN_TEST_WINRM")
    ca_file           = "ca.pem"
    operation_timeout = "50s"
    timeout           = "60s"
  }
}
` + host("fe01", ctlFE+`
  ssh {
    port   = 22
    become = false
    jump {
      address = "other-bastion.example"
      port    = 2200
    }
  }`) + `
host "fe02" {
  address = "10.0.0.12"
  stack   = "dotnet"
  winrm {
    https    = false
    password = env("OSRUN_TEST_OTHER")
  }
}
host "fe03" {
  stack     = "dotnet"
  transport = "local"
}
`
	dir := t.TempDir()
	inv := mustLoadFile(t, filepath.Join(dir, "inv.hcl"), src)
	home, _ := os.UserHomeDir()
	fe01, fe02, fe03 := inv.Host("fe01"), inv.Host("fe02"), inv.Host("fe03")

	s := fe01.SSH
	if s.User != "osadmin" || s.Port != 22 || s.Become || s.HostKeyChecking != "accept-new" {
		t.Errorf("fe01 ssh = %+v: want user osadmin, port 22 (override), become false (override), accept-new", s)
	}
	if s.PrivateKey != filepath.Join(home, ".ssh/id_ed25519") {
		t.Errorf("private_key = %q, want ~ expanded", s.PrivateKey)
	}
	if !slices.Equal(s.KnownHosts, []string{filepath.Join(dir, "known_hosts")}) {
		t.Errorf("known_hosts = %v, want relative to the inventory", s.KnownHosts)
	}
	if s.Passphrase.Reveal() != "pp-secret" || s.Passphrase.Source() != `env("OSRUN_TEST_PASSPHRASE")` {
		t.Errorf("passphrase = %v", s.Passphrase)
	}
	if s.DialTimeout != 10*time.Second || s.CommandTimeout != 2*time.Hour || s.Keepalive != 15*time.Second {
		t.Errorf("timeouts = %v %v %v", s.DialTimeout, s.CommandTimeout, s.Keepalive)
	}
	wantJump := []JumpHost{{Address: "other-bastion.example", Port: 2200, User: "osadmin", HostKeyChecking: "accept-new"}}
	if !slices.Equal(s.Jump, wantJump) {
		t.Errorf("fe01 jump = %+v, want the host's own chain %+v", s.Jump, wantJump)
	}
	if j := fe02.SSH.Jump; len(j) != 1 || j[0].Address != "bastion.example" || j[0].User != "ops" || j[0].Port != 22 {
		t.Errorf("fe02 jump = %+v, want the default chain", j)
	}
	if fe02.SSH.Port != 2222 || !fe02.SSH.Become {
		t.Errorf("fe02 ssh = %+v, want defaults", fe02.SSH)
	}

	w := fe02.WinRM
	if w.User != `CORP\osadmin` || *w.HTTPS || w.Port != 5985 || w.Auth != "ntlm" || w.CAFile != filepath.Join(dir, "ca.pem") {
		t.Errorf("fe02 winrm = %+v: want inherited user, https false, port 5985, auth ntlm", w)
	}
	if w.Password.Reveal() != "other-secret" {
		t.Errorf("fe02 password not overridden: %v", w.Password)
	}
	if w.OperationTimeout != 50*time.Second || w.Timeout != time.Minute {
		t.Errorf("winrm timeouts = %v %v", w.OperationTimeout, w.Timeout)
	}
	if w := fe01.WinRM; !*w.HTTPS || w.Port != 5986 || w.Password.Reveal() != "winrm-secret" {
		t.Errorf("fe01 winrm = %+v: want https on 5986 with the default password", w)
	}

	for _, c := range []struct {
		h         *Host
		transport string
		address   string
	}{{fe01, "ssh", "fe01.example"}, {fe02, "winrm", "10.0.0.12"}, {fe03, "local", "localhost"}} {
		if c.h.Transport != c.transport || c.h.Address != c.address {
			t.Errorf("%s: transport %q address %q, want %q %q", c.h.Name, c.h.Transport, c.h.Address, c.transport, c.address)
		}
	}
}

func TestGroups(t *testing.T) {
	src := host("fe01", ctlFE) + host("fe02", "") + host("fe03", "") + host("fe04", "") +
		host("ctl2", `roles = []`) + `
group "inner" { hosts = [host.fe04, host.fe02] }
group "outer" { hosts = [group.inner, host.fe01, host.fe02] }
group "top"   { hosts = [group.outer, group.inner, group.controller] }
group "one"   { hosts = host.fe03 }
group "every" { hosts = group.all }
`
	inv := mustLoad(t, src)
	tests := map[string][]string{
		GroupAll:        {"fe01", "fe02", "fe03", "fe04", "ctl2"},
		GroupController: {"fe01"},
		GroupFrontends:  {"fe01", "fe02", "fe03", "fe04"},
		GroupUpdating:   {"fe01", "fe02"},
		GroupLoaded:     {"fe03", "fe04"},
		"inner":         {"fe02", "fe04"},
		"outer":         {"fe01", "fe02", "fe04"},
		"top":           {"fe01", "fe02", "fe04"},
		"one":           {"fe03"},
		"every":         {"fe01", "fe02", "fe03", "fe04", "ctl2"},
	}
	for name, want := range tests {
		g := inv.Group(name)
		if g == nil {
			t.Errorf("group %s missing", name)
			continue
		}
		if got := names(g.Hosts); !slices.Equal(got, want) {
			t.Errorf("group %s = %v, want %v", name, got, want)
		}
		if g.Builtin != slices.Contains(builtinGroups, name) {
			t.Errorf("group %s Builtin = %v", name, g.Builtin)
		}
	}
	if inv.Group("nope") != nil || inv.Host("nope") != nil {
		t.Error("lookups of absent names must return nil")
	}
}

func TestZonesAndEndpoints(t *testing.T) {
	t.Setenv("OSRUN_TEST_LB_TOKEN", "lb-token")
	src := `
load_balancer "main" {
  driver    = "haproxy"
  socket    = "/run/haproxy/admin.sock"
  weight    = 3
  api_token = env("OSRUN_TEST_LB_TOKEN")
}
service_center "sc" {
  driver = "http"
  url    = "https://sc.example/"
}
service_center "sc2" {
  driver = "http"
  url    = "https://sc2.example/"
}
zone "a" { service_center = service_center.sc }
zone "empty" {}
zone "default" { service_center = service_center.sc2 }
` + host("fe01", ctlFE+"\nzone = zone.a") + host("fe02", "zone = zone.a\nmember = \"web-2\"") + host("fe03", "") + host("fe04", "")
	inv := mustLoad(t, src)
	var zones []string
	for _, z := range inv.Zones {
		zones = append(zones, z.Name)
		if z.Name != "empty" && z.LoadBalancer != "main" {
			t.Errorf("zone %s load balancer %q, want the only one", z.Name, z.LoadBalancer)
		}
	}
	if want := []string{"a", "empty", "default"}; !slices.Equal(zones, want) {
		t.Errorf("zones = %v, want %v", zones, want)
	}
	if z := inv.Zones[0]; z.ServiceCenter != "sc" || !slices.Equal(names(z.Hosts), []string{"fe01", "fe02"}) {
		t.Errorf("zone a = %+v", z)
	}
	if z := inv.Zones[2]; z.ServiceCenter != "sc2" || !slices.Equal(names(z.Hosts), []string{"fe03", "fe04"}) {
		t.Errorf("zone default = %+v", z)
	}
	lb := inv.LoadBalancers["main"]
	if lb.Driver != "haproxy" || lb.Settings["socket"].AsString() != "/run/haproxy/admin.sock" || !lb.Settings["weight"].RawEquals(cty.NumberIntVal(3)) {
		t.Errorf("load balancer = %+v", lb)
	}
	if _, hasDriver := lb.Settings["driver"]; hasDriver {
		t.Error("driver must not be among the driver's settings")
	}
	tok, ok := secret.FromCty(lb.Settings["api_token"])
	if !ok || tok.Reveal() != "lb-token" {
		t.Errorf("api_token = %v, want a secret from env", lb.Settings["api_token"])
	}
	if inv.Host("fe02").Member != "web-2" || inv.Host("fe03").Member != "fe03" {
		t.Error("member must default to the host name and honour member =")
	}
}

func TestHostValue(t *testing.T) {
	src := `zone "lisbon" {}
` + host("fe01", ctlFE+"\nzone = zone.lisbon\nvars = { site = \"lisbon\", weight = 2 }") + host("fe02", "zone = zone.lisbon\nmember = \"m2\"") + host("db", "roles = []\nzone = zone.lisbon")
	inv := mustLoad(t, src)
	tests := []struct {
		host string
		want cty.Value
	}{
		{"fe01", cty.ObjectVal(map[string]cty.Value{
			"name": cty.StringVal("fe01"), "address": cty.StringVal("fe01.example"), "zone": cty.StringVal("lisbon"),
			"stack": cty.StringVal("j2ee"), "roles": cty.ListVal([]cty.Value{cty.StringVal("controller"), cty.StringVal("frontend")}),
			"member": cty.StringVal("fe01"), "transport": cty.StringVal("ssh"), "split": cty.StringVal("updating"),
			"controller": cty.True, "vars": cty.ObjectVal(map[string]cty.Value{"site": cty.StringVal("lisbon"), "weight": cty.NumberIntVal(2)}),
		})},
		{"fe02", cty.ObjectVal(map[string]cty.Value{
			"name": cty.StringVal("fe02"), "address": cty.StringVal("fe02.example"), "zone": cty.StringVal("lisbon"),
			"stack": cty.StringVal("j2ee"), "roles": cty.ListVal([]cty.Value{cty.StringVal("frontend")}),
			"member": cty.StringVal("m2"), "transport": cty.StringVal("ssh"), "split": cty.StringVal("loaded"),
			"controller": cty.False, "vars": cty.EmptyObjectVal,
		})},
		{"db", cty.ObjectVal(map[string]cty.Value{
			"name": cty.StringVal("db"), "address": cty.StringVal("db.example"), "zone": cty.StringVal("lisbon"),
			"stack": cty.StringVal("j2ee"), "roles": cty.ListValEmpty(cty.String),
			"member": cty.StringVal("db"), "transport": cty.StringVal("ssh"), "split": cty.StringVal(""),
			"controller": cty.False, "vars": cty.EmptyObjectVal,
		})},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			got := inv.HostValue(inv.Host(tt.host))
			if !got.RawEquals(tt.want) {
				t.Errorf("HostValue =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestFunctions(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OSRUN_TEST_ENV", "from-env")
	src := `
defaults {
  winrm { password = file("pw") }
  ssh   { become_password = upper(env("OSRUN_TEST_ENV")) }
}
` + host("fe01", ctlFE+"\nvars = { msg = format(\"%s-%d\", join(\",\", [\"a\", \"b\"]), max(1, 2)) }") + host("fe02", "")
	inv := mustLoadFile(t, filepath.Join(dir, "inv.hcl"), src)
	h := inv.Host("fe01")
	if p := h.WinRM.Password; p.Reveal() != "from-file" || p.Source() != `file("pw")` {
		t.Errorf("file() = %q from %q, want trailing newline dropped", p.Reveal(), p.Source())
	}
	if p := h.SSH.BecomePassword; p.Reveal() != "FROM-ENV" || p.Source() != `env("OSRUN_TEST_ENV")` {
		t.Errorf("upper(env()) = %q from %q, want the mark kept through stdlib calls", p.Reveal(), p.Source())
	}
	if got := h.Vars["msg"]; !got.RawEquals(cty.StringVal("a,b-2")) {
		t.Errorf("vars.msg = %#v", got)
	}
	fns := Functions(dir)
	for _, name := range []string{"env", "file", "upper", "lower", "format", "join", "split", "concat", "length",
		"contains", "coalesce", "replace", "trimspace", "min", "max", "tostring", "tonumber", "tobool", "tolist",
		"toset", "tomap", "merge", "keys", "values", "lookup", "element", "range", "abs", "ceil", "floor", "regex"} {
		if _, ok := fns[name]; !ok {
			t.Errorf("function %s missing", name)
		}
	}
}

func TestLoadFromDisk(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "farm.hcl")
	if err := os.WriteFile(path, []byte(host("fe01", ctlFE)+host("fe02", "")), 0o600); err != nil {
		t.Fatal(err)
	}
	parser := hclparse.NewParser()
	inv, diags := Load(parser, path)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if len(inv.Hosts) != 2 || parser.Files()[path] == nil {
		t.Error("Load must parse through the shared parser, so diagnostics can show snippets")
	}
	_, diags = Load(hclparse.NewParser(), filepath.Join(dir, "missing.hcl"))
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "missing.hcl") {
		t.Errorf("missing file: %v", diags)
	}
}

func TestFileFunctionErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, arg, want string
	}{
		{"missing", "nope.txt", "read nope.txt: no such file or directory"},
		{"directory", ".", "read .: not a regular file"},
		{"device", "/dev/zero", "read /dev/zero: not a regular file"},
	}
	fn := Functions(dir)["file"]
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fn.Call([]cty.Value{cty.StringVal(tt.arg)})
			if err == nil || err.Error() != tt.want {
				t.Errorf("file(%q) error = %v, want %q", tt.arg, err, tt.want)
			}
		})
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, maxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := fn.Call([]cty.Value{cty.StringVal("big")}); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("file(big) error = %v, want a size error", err)
	}
	t.Setenv("OSRUN_TEST_EMPTY", "")
	if _, err := Functions(dir)["env"].Call([]cty.Value{cty.StringVal("OSRUN_TEST_EMPTY")}); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("env of an empty variable: %v, want an error", err)
	}
}
