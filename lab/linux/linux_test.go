package linux_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/lab/labtest"
	"github.com/osrun/osrun/lab/linux"
	"github.com/osrun/osrun/modules/installer"
	"github.com/osrun/osrun/modules/service"
	"github.com/osrun/osrun/transports/ssh"
)

type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf(format, a...))
}
func (r *recorder) InstallStarted(h string)           { r.add("%s down", h) }
func (r *recorder) Installed(h, v string)             { r.add("%s installed %s", h, v) }
func (r *recorder) DeployerRunning(h string, on bool) { r.add("%s deployer %v", h, on) }
func (r *recorder) Configured(h, v string, env bool) {
	r.add("%s configured %s environment=%v", h, v, env)
}
func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.events, "; ")
}

// dial starts a simulated host and connects with the real SSH transport:
// public-key authentication, the host key checked strictly against a
// known_hosts file, become through the sandbox's sudo.
func dial(t *testing.T, name string, controller bool, rec *recorder) (*linux.Host, *inventory.Host, *ssh.Conn) {
	t.Helper()
	return dialWith(t, name, controller, rec, false)
}

// dialWith is dial, with a real OpenSSH sshd when sshd is set.
func dialWith(t *testing.T, name string, controller bool, rec *recorder, sshd bool) (*linux.Host, *inventory.Host, *ssh.Conn) {
	t.Helper()
	dir := t.TempDir()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	authorized, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	box := filepath.Join(dir, "host")
	if err := os.Mkdir(box, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := linux.Config{Name: name, Version: "11.30.0", Dir: box, User: "osadmin", Authorized: authorized, Platform: rec}
	start := linux.Start
	if sshd {
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		cfg.User = u.Username
		start = func(cfg linux.Config) (*linux.Host, error) { return linux.StartSSHD(cfg, "") }
	}
	h, err := start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	known := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(known, []byte(h.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	no := false
	ih := &inventory.Host{Name: name, Address: "127.0.0.1", Stack: inventory.StackJ2EE, Roles: []inventory.Role{inventory.RoleFrontend},
		SSH: inventory.SSHSettings{Port: h.Port(), User: cfg.User, PrivateKey: keyFile, UseAgent: &no, KnownHosts: []string{known},
			HostKeyChecking: "strict", Become: true, DialTimeout: 5 * time.Second}}
	if controller {
		ih.Roles = append(ih.Roles, inventory.RoleController)
	}
	conn, err := ssh.Dial(t.Context(), ih, ssh.Options{Warn: func(m string) { t.Errorf("warning: %s", m) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return h, ih, conn
}

func script(t *testing.T, install time.Duration) string {
	p := filepath.Join(t.TempDir(), "installer.sh")
	if err := os.WriteFile(p, linux.InstallerScript(install), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUpgradeThroughSSH(t *testing.T) {
	tests := []struct {
		name       string
		controller bool
		wantTool   string
	}{
		{"front-end", false, "environment=false"},
		{"controller", true, "environment=true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			h, ih, conn := dial(t, "fe02", tt.controller, rec)
			a := labtest.Action(t, installer.Definition(installer.Options{}), map[string]any{"version": "11.31.0", "script": script(t, 10*time.Millisecond)})
			env, progress := labtest.Env(ih, conn)
			check, err := a.Check(t.Context(), env)
			if err != nil || !check.Changed || check.Msg != "would upgrade 11.30.0 → 11.31.0" {
				t.Fatalf("Check = %v %+v", err, check)
			}
			res, err := a.Apply(t.Context(), env)
			if err != nil {
				t.Fatalf("Apply: %v\nprogress:\n%s", err, progress)
			}
			if res.Msg != "upgraded 11.30.0 → 11.31.0" || h.Version() != "11.31.0" {
				t.Errorf("Apply = %q, version.txt %s", res.Msg, h.Version())
			}
			want := "fe02 deployer false; fe02 down; fe02 installed 11.31.0; fe02 deployer true; fe02 configured 11.31.0 " + tt.wantTool
			if got := rec.String(); got != want {
				t.Errorf("effects:\n got %s\nwant %s", got, want)
			}
			if !strings.Contains(progress.String(), "Platform Server 11.31.0 installed") {
				t.Errorf("installer output not streamed:\n%s", progress)
			}
			if left, _ := os.ReadDir(filepath.Join(h.Dir(), linux.Staging)); len(left) != 0 {
				t.Errorf("staging left with %d files", len(left))
			}
			again, err := a.Apply(t.Context(), env)
			if err != nil || again.Changed {
				t.Errorf("second Apply: %v %+v", err, again)
			}
		})
	}
}

func TestInstallerFailureShowsLog(t *testing.T) {
	rec := &recorder{}
	h, ih, conn := dial(t, "fe04", false, rec)
	if err := h.FailInstaller("ERROR: database schema upgrade failed (ORA-01031)"); err != nil {
		t.Fatal(err)
	}
	a := labtest.Action(t, installer.Definition(installer.Options{}), map[string]any{"version": "11.31.0", "script": script(t, 0)})
	env, _ := labtest.Env(ih, conn)
	_, err := a.Apply(t.Context(), env)
	if err == nil || !strings.Contains(err.Error(), "ORA-01031") {
		t.Fatalf("Apply error %v, want the installer log", err)
	}
	if h.Version() != "11.30.0" || rec.String() != "fe04 deployer false; fe04 down" {
		t.Errorf("version %s, effects %s", h.Version(), rec.String())
	}
}

// The guide's step 7 on J2EE: service outsystems start DEPLOYER, as root.
func TestDeployerThroughSSH(t *testing.T) {
	rec := &recorder{}
	h, ih, conn := dial(t, "fe06", false, rec)
	def := service.Definition(service.Options{Poll: time.Millisecond})
	env, _ := labtest.Env(ih, conn)
	if _, err := labtest.Action(t, def, map[string]any{"name": "deployer", "state": "stopped"}).Apply(t.Context(), env); err != nil {
		t.Fatal(err)
	}
	if got := h.Service("DEPLOYER"); got != "STOPPED" {
		t.Fatalf("DEPLOYER %s after stop", got)
	}
	res, err := labtest.Action(t, def, map[string]any{"name": "deployer", "state": "running"}).Apply(t.Context(), env)
	if err != nil || !res.Changed {
		t.Fatalf("Apply = %v %+v", err, res)
	}
	if got := h.Service("DEPLOYER"); got != "RUNNING" {
		t.Errorf("DEPLOYER %s after start", got)
	}
	if got := rec.String(); got != "fe06 deployer false; fe06 deployer true" {
		t.Errorf("effects %s", got)
	}
	for _, c := range h.Commands() {
		if strings.Contains(c, "service 'outsystems'") && !strings.Contains(c, "sudo -n --") {
			t.Errorf("service ran without become: %s", c)
		}
	}
}

// The same upgrade through a real OpenSSH sshd, whose ForceCommand plays
// the sandbox.
func TestUpgradeThroughRealSSHD(t *testing.T) {
	if _, err := os.Stat(linux.SSHDPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sshd is not installed; CI must install openssh-server")
		}
		t.Skip("SKIPPING THE REAL SSHD: " + linux.SSHDPath + " is not installed")
	}
	rec := &recorder{}
	h, ih, conn := dialWith(t, "fe08", true, rec, true)
	a := labtest.Action(t, installer.Definition(installer.Options{}), map[string]any{"version": "11.31.0", "script": script(t, 10*time.Millisecond)})
	env, progress := labtest.Env(ih, conn)
	res, err := a.Apply(t.Context(), env)
	if err != nil {
		t.Fatalf("Apply: %v\nprogress:\n%s", err, progress)
	}
	if res.Msg != "upgraded 11.30.0 → 11.31.0" || h.Version() != "11.31.0" {
		t.Errorf("Apply = %q, version.txt %s", res.Msg, h.Version())
	}
	want := "fe08 deployer false; fe08 down; fe08 installed 11.31.0; fe08 deployer true; fe08 configured 11.31.0 environment=true"
	if got := rec.String(); got != want {
		t.Errorf("effects:\n got %s\nwant %s", got, want)
	}
	res, err = labtest.Action(t, service.Definition(service.Options{Poll: time.Millisecond}), map[string]any{"name": "deployer", "state": "running"}).Apply(t.Context(), env)
	if err != nil || res.Changed {
		t.Errorf("deployer: %v %+v", err, res)
	}
}
