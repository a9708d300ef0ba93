package preflight_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/lab/lb"
	"github.com/osrun/osrun/lab/servicecenter"
	"github.com/osrun/osrun/modules/builtin"
	"github.com/osrun/osrun/runner"
	"github.com/osrun/osrun/runner/playbook"
	"github.com/osrun/osrun/runner/preflight"
	"github.com/osrun/osrun/transports/local"
	"github.com/osrun/osrun/transports/ssh"
)

// faults are what a test farm gets wrong; the zero value is a farm ready
// for its upgrade.
type faults struct {
	unreachable bool // fe03 cannot be dialled
	notInPool   bool // fe02's member name is not in the balancer's pool
	unhealthy   bool // fe06 (loaded, porto) fails its health check
	missingFile bool // the .NET installer is not on the control machine
	badSum      bool // the J2EE installer script's SHA-256 is not the playbook's
	scDown      bool // Service Center does not answer
	scUnknown   bool // Service Center does not know fe07
	noVersion   bool // fe08 has no Platform Server installed
	lbDown      bool // the load balancer's runtime API does not answer
}

// testFarm is two zones of four front-ends on the local transport, behind
// the lab's load balancer and Service Center:
//
//	lisbon (j2ee):   ctl01 (controller), fe02 updating; fe03, fe08 loaded
//	porto  (dotnet): fe04, fe05 updating; fe06, fe07 loaded
type testFarm struct {
	inv       *inventory.Inventory
	pb        *playbook.Playbook
	opts      preflight.Options
	dotnetExe string
	j2eeSh    string
	backends  map[string]*backend
	lb        *lb.LB
	// down[m] is closed when member m's health checks first fail.
	down map[string]chan struct{}
}

var hostZones = []struct{ name, zone string }{
	{"ctl01", "lisbon"}, {"fe02", "lisbon"}, {"fe03", "lisbon"}, {"fe04", "porto"},
	{"fe05", "porto"}, {"fe06", "porto"}, {"fe07", "porto"}, {"fe08", "lisbon"},
}

// backend is a front-end's web server as the balancer's health check sees it.
type backend struct {
	srv  *httptest.Server
	sick atomic.Bool
}

func newBackend(t *testing.T) *backend {
	b := &backend{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b.sick.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func newTestFarm(t *testing.T, f faults) *testFarm {
	t.Helper()
	dir := t.TempDir()
	tf := &testFarm{backends: map[string]*backend{}}

	// The installers on the control machine.
	tf.dotnetExe = filepath.Join(dir, "PlatformServer-11.31.0.exe")
	tf.j2eeSh = filepath.Join(dir, "platform-server-j2ee-11.31.0.sh")
	write(t, tf.j2eeSh, "#!/bin/sh\necho installing\n")
	if !f.missingFile {
		write(t, tf.dotnetExe, "MZ installer\n")
	}
	j2eeSum := sha256Hex("#!/bin/sh\necho installing\n")
	if f.badSum {
		j2eeSum = sha256Hex("another build")
	}

	// Each host's platform directory, read by the installer's J2EE reader.
	for _, h := range hostZones {
		if f.noVersion && h.name == "fe08" {
			continue
		}
		write(t, filepath.Join(dir, h.name, "version.txt"), "11.30.0.41000\n")
	}

	// The load balancer, one backend per front-end; a sick one is waited
	// for until its checks took it down.
	tf.down = map[string]chan struct{}{}
	var once sync.Map
	var members []lb.MemberConfig
	for _, h := range hostZones {
		tf.down[h.name] = make(chan struct{})
		b := newBackend(t)
		b.sick.Store(f.unhealthy && h.name == "fe06")
		tf.backends[h.name] = b
		members = append(members, lb.MemberConfig{Name: h.name, Addr: b.srv.Listener.Addr().String()})
	}
	bal, err := lb.New(lb.Config{Members: members, CheckInterval: 10 * time.Millisecond, OnEvent: func(e lb.Event) {
		if e.To.Up {
			return
		}
		if _, closed := once.LoadOrStore(e.Member, true); !closed {
			close(tf.down[e.Member])
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bal.Close() })
	tf.lb = bal
	settle(t, bal, f.unhealthy)
	if f.unhealthy {
		select {
		case <-tf.down["fe06"]:
		case <-time.After(10 * time.Second):
			t.Fatal("fe06's health checks never failed")
		}
	}

	// Service Center.
	scURL := closedURL(t)
	if !f.scDown {
		var fes []servicecenter.Frontend
		for _, h := range hostZones {
			if f.scUnknown && h.name == "fe07" {
				continue
			}
			fes = append(fes, servicecenter.Frontend{Name: h.name})
		}
		sim, err := servicecenter.New(servicecenter.Options{Version: "11.30.0"}, fes...)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(sim)
		t.Cleanup(srv.Close)
		scURL = srv.URL
	}

	lbAddr := bal.APIAddr()
	if f.lbDown {
		lbAddr = strings.TrimPrefix(closedURL(t), "http://")
	}
	var inv strings.Builder
	fmt.Fprintf(&inv, `load_balancer "main" {
  driver  = "haproxy"
  address = %q
  backend = %q
}
service_center "main" {
  driver = "http"
  url    = %q
}
zone "lisbon" {}
zone "porto" {}
`, lbAddr, bal.Backend(), scURL)
	for _, h := range hostZones {
		stack, transport, member, roles := "j2ee", "local", h.name, `["frontend"]`
		if h.zone == "porto" {
			stack = "dotnet"
		}
		if h.name == "ctl01" {
			roles = `["controller", "frontend"]`
		}
		extra := ""
		if f.unreachable && h.name == "fe03" {
			// A real SSH dial to a port nothing listens on.
			transport = "ssh"
			_, port, _ := net.SplitHostPort(strings.TrimPrefix(closedURL(t), "http://"))
			extra = fmt.Sprintf("ssh {\n    port = %s\n    user = \"osadmin\"\n    private_key = %q\n    use_agent = false\n    host_key_checking = \"off\"\n  }\n", port, filepath.Join(dir, "id_ed25519"))
		}
		if f.notInPool && h.name == "fe02" {
			member = "fe02-old"
		}
		fmt.Fprintf(&inv, `host %q {
  address   = "127.0.0.1"
  stack     = %q
  transport = %q
  zone      = zone.%s
  roles     = %s
  member    = %q
  vars      = { home = %q }
  %s}
`, h.name, stack, transport, h.zone, roles, member, filepath.Join(dir, h.name), extra)
	}
	parser := hclparse.NewParser()
	var diags interface{ Error() string }
	tf.inv, diags = loadInventory(parser, filepath.Join(dir, "inventory.hcl"), inv.String())
	if diags != nil {
		t.Fatalf("inventory: %s", diags.Error())
	}

	pbPath := filepath.Join(dir, "upgrade.hcl")
	write(t, pbPath, `
variable "target_version" { default = "11.31.0" }
variable "dotnet_installer" { default = "" }
variable "j2ee_installer" { default = "" }
variable "j2ee_sha256" { default = "" }

wave "controller" {
  hosts = group.controller
  task "installer" "controller" {
    version     = var.target_version
    script      = var.j2ee_installer
    sha256      = var.j2ee_sha256
    install_dir = host.vars.home
  }
}

wave "front_ends" {
  hosts   = group.frontends
  exclude = group.controller
  task "installer" "front_ends" {
    version     = var.target_version
    source      = host.stack == "dotnet" ? var.dotnet_installer : null
    script      = host.stack == "j2ee" ? var.j2ee_installer : null
    sha256      = host.stack == "j2ee" ? var.j2ee_sha256 : null
    install_dir = host.vars.home
  }
}
`)
	tf.pb = decodePlaybook(t, tf.inv, pbPath, map[string]string{
		"dotnet_installer": tf.dotnetExe, "j2ee_installer": tf.j2eeSh, "j2ee_sha256": j2eeSum,
	})

	tf.opts = preflight.Options{
		Dialers: map[string]runner.Dialer{
			"local": local.Dialer{},
			"ssh":   ssh.Dialer{Options: ssh.Options{Warn: func(string) {}}},
		},
		Timeout: 20 * time.Second,
	}
	return tf
}

// settle waits until every healthy member's first check passed: members
// start as "UP 1/3", as HAProxy's do, which the driver rightly reads as
// failing checks. The balancer reports no event for it, hence the poll.
func settle(t *testing.T, bal *lb.LB, exceptFe06 bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		settled := true
		for _, m := range bal.Members() {
			if m.Detail != "UP" && !(exceptFe06 && m.Name == "fe06") {
				settled = false
			}
		}
		if settled {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("members never settled: %+v", bal.Members())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// decodePlaybook loads the playbook at path against inv.
func decodePlaybook(t *testing.T, inv *inventory.Inventory, path string, vars map[string]string) *playbook.Playbook {
	t.Helper()
	file, diags := playbook.Parse(hclparse.NewParser(), path)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	reg, err := builtin.Registry(builtin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pb, diags := file.Decode(inv, reg, vars, nil)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return pb
}

func loadInventory(parser *hclparse.Parser, path, src string) (*inventory.Inventory, interface{ Error() string }) {
	inv, diags := inventory.LoadSource(parser, path, []byte(src))
	if diags.HasErrors() {
		return nil, diags
	}
	return inv, nil
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// closedURL is the URL of a port nothing listens on any more.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}
