package windows_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/lab/labtest"
	"github.com/osrun/osrun/lab/windows"
	"github.com/osrun/osrun/modules/installer"
	"github.com/osrun/osrun/modules/service"
	"github.com/osrun/osrun/transports/winrm"
)

// recorder is a Platform that keeps what the host's programs did.
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

// dial starts a simulated host and connects to it with the real WinRM
// transport over HTTPS, trusting the host's CA.
func dial(t *testing.T, cfg windows.Config) (*windows.Host, *inventory.Host, *winrm.Conn) {
	t.Helper()
	h, err := windows.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, h.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	https := true
	ih := &inventory.Host{Name: cfg.Name, Address: "127.0.0.1", Stack: inventory.StackDotNet, Roles: []inventory.Role{inventory.RoleFrontend},
		WinRM: inventory.WinRMSettings{Port: h.Port(), HTTPS: &https, CAFile: ca, Auth: "ntlm", User: h.User(),
			Password: secret.New(cfg.Password, "test"), Timeout: 10 * time.Second, OperationTimeout: 2 * time.Second}}
	if cfg.Controller {
		ih.Roles = append(ih.Roles, inventory.RoleController)
	}
	conn, err := winrm.Dial(t.Context(), ih, winrm.Options{Warn: func(m string) { t.Errorf("warning: %s", m) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return h, ih, conn
}

func installerFile(t *testing.T, version string) string {
	p := filepath.Join(t.TempDir(), "PlatformServer-11.31.0.exe")
	if err := os.WriteFile(p, []byte("MZ lab installer\nversion="+version+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUpgradeThroughWinRM(t *testing.T) {
	tests := []struct {
		name       string
		controller bool
		want       string
	}{
		{"front-end", false, "fe02 deployer false; fe02 down; fe02 installed 11.31.0.45003; fe02 deployer true; fe02 configured 11.31.0.45003 environment=false"},
		{"controller", true, "fe02 deployer false; fe02 down; fe02 installed 11.31.0.45003; fe02 deployer true; fe02 configured 11.31.0.45003 environment=true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			h, ih, conn := dial(t, windows.Config{Name: "fe02", Version: "11.30.0", Password: "pw", Controller: tt.controller,
				InstallTime: 10 * time.Millisecond, Platform: rec})
			a := labtest.Action(t, installer.Definition(installer.Options{}), map[string]any{"version": "11.31.0", "source": installerFile(t, "11.31.0.45003")})
			env, progress := labtest.Env(ih, conn)

			check, err := a.Check(t.Context(), env)
			if err != nil || !check.Changed || h.Installs() != 0 {
				t.Fatalf("Check = %v %v, installs %d", err, check.Changed, h.Installs())
			}
			res, err := a.Apply(t.Context(), env)
			if err != nil {
				t.Fatalf("Apply: %v\nprogress:\n%s", err, progress)
			}
			if res.Msg != "upgraded 11.30.0 → 11.31.0.45003" || h.Version() != "11.31.0.45003" {
				t.Errorf("Apply = %q, registry %s", res.Msg, h.Version())
			}
			if got := rec.String(); got != tt.want {
				t.Errorf("effects:\n got %s\nwant %s", got, tt.want)
			}
			if st, _, _ := h.Service(windows.Deployer); st != "Running" {
				t.Errorf("deployer %s after the Configuration Tool", st)
			}
			again, err := a.Apply(t.Context(), env)
			if err != nil || again.Changed || h.Installs() != 1 {
				t.Errorf("second Apply: %v %v, installs %d", err, again.Changed, h.Installs())
			}
		})
	}
}

func TestInstallerFailureShowsLog(t *testing.T) {
	rec := &recorder{}
	h, ih, conn := dial(t, windows.Config{Name: "fe03", Version: "11.30.0", Password: "pw", InstallTime: time.Millisecond, Platform: rec})
	h.FailInstaller(1603, "Installing .NET Hosting Bundle: failed (0x80070643)")
	a := labtest.Action(t, installer.Definition(installer.Options{}), map[string]any{"version": "11.31.0", "source": installerFile(t, "11.31.0")})
	env, _ := labtest.Env(ih, conn)
	_, err := a.Apply(t.Context(), env)
	if err == nil {
		t.Fatal("Apply succeeded")
	}
	for _, want := range []string{"failed with exit code 1603", "PlatformInstaller.log", "0x80070643"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if h.Version() != "11.30.0" || rec.String() != "fe03 deployer false; fe03 down" {
		t.Errorf("version %s, effects %s", h.Version(), rec.String())
	}
}

// The guide's step 7 on .NET: startup Automatic, then running.
func TestDeployerThroughWinRM(t *testing.T) {
	rec := &recorder{}
	h, ih, conn := dial(t, windows.Config{Name: "fe04", Version: "11.31.0", Password: "pw", Platform: rec})
	def := service.Definition(service.Options{Poll: time.Millisecond})
	env, _ := labtest.Env(ih, conn)
	stop := labtest.Action(t, def, map[string]any{"name": "deployer", "state": "stopped", "startup": "manual"})
	if _, err := stop.Apply(t.Context(), env); err != nil {
		t.Fatal(err)
	}
	if st, startup, _ := h.Service(windows.Deployer); st != "Stopped" || startup != "Manual" {
		t.Fatalf("after stop: %s %s", st, startup)
	}
	start := labtest.Action(t, def, map[string]any{"name": "deployer", "state": "running", "startup": "automatic"})
	res, err := start.Apply(t.Context(), env)
	if err != nil || !res.Changed {
		t.Fatalf("Apply = %v %v", err, res)
	}
	if st, startup, _ := h.Service(windows.Deployer); st != "Running" || startup != "Automatic" {
		t.Errorf("after start: %s %s", st, startup)
	}
	if got := rec.String(); got != "fe04 deployer false; fe04 deployer true" {
		t.Errorf("effects %s", got)
	}
}
