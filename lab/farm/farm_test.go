package farm_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/lab/farm"
	"github.com/osrun/osrun/lab/linux"
	"github.com/osrun/osrun/modules/builtin"
	"github.com/osrun/osrun/runner"
	"github.com/osrun/osrun/runner/playbook"
	"github.com/osrun/osrun/transports/ssh"
	"github.com/osrun/osrun/transports/winrm"
)

// events keeps a run's events for the failure message.
type events struct {
	mu    sync.Mutex
	lines []string
}

func (e *events) Emit(ev runner.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ev.Host == "" && ev.Kind != runner.WaveStart {
		return
	}
	e.lines = append(e.lines, fmt.Sprintf("%s %s %s %s %s %s %s", ev.Time.Format("15:04:05.000"), ev.Kind, ev.Wave, ev.Task, ev.Host, ev.Status, firstLine(ev.Msg+ev.Error)))
}

func (e *events) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.lines, "\n")
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// run runs a playbook against the farm the way apply does: real loader,
// real modules, real transports.
func run(t *testing.T, f *farm.Farm, path string, check bool) (*runner.Recap, *events) {
	t.Helper()
	parser := hclparse.NewParser()
	file, diags := playbook.Parse(parser, path)
	fatalDiags(t, parser, diags)
	inv, diags := inventory.Load(parser, f.Inventory())
	fatalDiags(t, parser, diags)
	reg, err := builtin.Registry(builtin.Options{PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	pb, diags := file.Decode(inv, reg, f.Vars(), nil)
	fatalDiags(t, parser, diags)
	ev := &events{}
	warn := func(m string) { t.Errorf("transport warning: %s", m) }
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	recap, err := runner.Run(ctx, pb, inv, runner.Options{
		Check: check,
		Forks: 5,
		Sink:  ev,
		Dialers: map[string]runner.Dialer{
			"ssh":   ssh.Dialer{Options: ssh.Options{Warn: warn}},
			"winrm": &winrm.Dialer{Options: winrm.Options{Warn: warn}},
		},
	})
	if err != nil && recap == nil {
		t.Fatal(err)
	}
	return recap, ev
}

func fatalDiags(t *testing.T, parser *hclparse.Parser, diags hcl.Diagnostics) {
	t.Helper()
	if diags.HasErrors() {
		var b strings.Builder
		wr := hcl.NewDiagnosticTextWriter(&b, parser.Files(), 100, false)
		wr.WriteDiagnostics(diags)
		t.Fatal(b.String())
	}
}

func start(t *testing.T, cfg farm.Config) *farm.Farm {
	t.Helper()
	cfg.Dir = t.TempDir()
	f, err := farm.Start(t.Context(), cfg)
	if (errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EADDRNOTAVAIL)) && os.Getenv("CI") != "true" {
		t.Skipf("SKIPPING THE LAB FARM: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

var upgradePlaybook = filepath.Join("..", "..", "playbooks", "upgrade.hcl")

// The balanced upgrade of 2 zones of 4 mixed front-ends under traffic: not
// one request fails, and every front-end ends upgraded, in rotation and
// deploying. With the simulated balancer; with a real HAProxy driven
// through the same runtime API; with the J2EE front-ends behind real
// OpenSSH sshd processes.
func TestBalancedUpgrade(t *testing.T) {
	tests := []struct {
		name string
		cfg  farm.Config
	}{
		{"sim", farm.Config{}},
		{"haproxy", farm.Config{Balancer: "haproxy"}},
		{"sshd", farm.Config{SSHD: linux.SSHDPath, FrontendsPerZone: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			switch tt.name {
			case "haproxy":
				needHAProxy(t)
			case "sshd":
				needSSHD(t)
			}
			f := start(t, tt.cfg)
			recap, ev := run(t, f, upgradePlaybook, false)
			v := f.Verdict()
			t.Logf("\n%s", v)
			if recap.Outcome != runner.OutcomeSuccess {
				t.Fatalf("outcome %s\n%s", recap.Outcome, ev)
			}
			if !v.OK() {
				t.Errorf("verdict not OK\n%s", ev)
			}
			if ok, bad := v.Upgraded("11.31.0"); !ok {
				t.Errorf("not upgraded: %v", bad)
			}
		})
	}
}

// needSSHD skips loudly without OpenSSH's sshd, except in CI.
func needSSHD(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(linux.SSHDPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sshd is not installed; CI must install openssh-server")
		}
		t.Skip("SKIPPING THE UPGRADE WITH REAL SSHD: " + linux.SSHDPath + " is not installed")
	}
}

// needHAProxy skips loudly without the binary, except in CI.
func needHAProxy(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("haproxy"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("haproxy is not installed; CI must install the Debian haproxy package")
		}
		t.Skip("SKIPPING THE UPGRADE BEHIND A REAL HAPROXY: haproxy is not installed (apt-get install haproxy)")
	}
}

// Negative control: upgrading front-ends the balancer still sends traffic
// to fails requests, and the verdict says so.
func TestUpgradeWithoutDrainingFails(t *testing.T) {
	for _, balancer := range []string{"sim", "haproxy"} {
		t.Run(balancer, func(t *testing.T) {
			if balancer == "haproxy" {
				needHAProxy(t)
			}
			f := start(t, farm.Config{Balancer: balancer})
			recap, ev := run(t, f, filepath.Join("testdata", "upgrade_without_draining.hcl"), false)
			v := f.Verdict()
			t.Logf("\n%s", v)
			if recap.Outcome != runner.OutcomeSuccess {
				t.Fatalf("outcome %s (the installers themselves must succeed)\n%s", recap.Outcome, ev)
			}
			if v.OK() || v.Traffic.Failed == 0 || len(v.Traffic.Violations) == 0 {
				t.Errorf("the lab saw no downtime: %d failed, %d violations", v.Traffic.Failed, len(v.Traffic.Violations))
			}
		})
	}
}

// A rehearsal reads everything and changes nothing in the lab.
func TestCheckChangesNothing(t *testing.T) {
	f := start(t, farm.Config{})
	recap, ev := run(t, f, upgradePlaybook, true)
	v := f.Verdict()
	t.Logf("\n%s", v)
	// The rehearsal predicts the installers and goes through every wave:
	// http_check reports, without failing, a body that names a version the
	// rehearsal did not install.
	if !strings.Contains(ev.String(), "installer.updating fe05 changed would upgrade 11.30.0 → 11.31.0") {
		t.Errorf("outcome %s without the installer's prediction\n%s", recap.Outcome, ev)
	}
	if recap.Outcome != runner.OutcomeSuccess {
		t.Errorf("rehearsal outcome %s, want success\n%s", recap.Outcome, ev)
	}
	if !v.OK() {
		t.Error("verdict not OK")
	}
	for _, fe := range v.Frontends {
		if fe.After != "11.30.0" || fe.Serving != "11.30.0" || !fe.InRotation || fe.LB != "UP" || !fe.DeploymentEnabled || !fe.DeployerRunning || fe.Down || fe.Broken {
			t.Errorf("%s changed: %+v", fe.Name, fe)
		}
	}
	for _, fe := range f.Frontends() {
		if fe.Windows != nil && (fe.Windows.Installs() != 0 || len(fe.Windows.Files()) != 0) {
			t.Errorf("%s: installer ran or files uploaded: %v", fe.Name, fe.Windows.Files())
		}
	}
	if h := f.ServiceCenter().History(); len(h) != 0 {
		t.Errorf("service center changed: %v", h)
	}
}

// An installer failing on an updating front-end stops the run while the
// loaded front-ends carry the traffic: nothing fails, and the error names
// the host and shows the installer's log.
func TestInstallerFailureStopsTheRun(t *testing.T) {
	f := start(t, farm.Config{})
	fe := f.Frontend("fe05")
	if fe.Windows == nil || fe.Controller {
		t.Fatal("fe05 should be a .NET updating front-end")
	}
	fe.Windows.FailInstaller(1603, "Installing .NET Hosting Bundle: failed (0x80070643)")
	recap, ev := run(t, f, upgradePlaybook, false)
	v := f.Verdict()
	t.Logf("\n%s", v)
	if recap.Outcome == runner.OutcomeSuccess || recap.StoppedAt != "upgrade_updating" {
		t.Errorf("outcome %s, stopped at %q\n%s", recap.Outcome, recap.StoppedAt, ev)
	}
	var failed runner.HostRecap
	for _, h := range recap.Hosts {
		if h.Failed > 0 {
			failed = h
		}
	}
	if failed.Host != "fe05" || !strings.Contains(failed.Error, "exit code 1603") || !strings.Contains(failed.Error, "0x80070643") {
		t.Errorf("failed host %q: %s", failed.Host, failed.Error)
	}
	if !v.OK() {
		t.Error("requests failed while an updating front-end failed")
	}
	for _, r := range v.Frontends {
		loaded := r.Name == "fe03" || r.Name == "fe04" || r.Name == "fe07" || r.Name == "fe08"
		if loaded != r.InRotation {
			t.Errorf("%s in rotation = %v", r.Name, r.InRotation)
		}
	}
}
