package installer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules/hostscript"
	"github.com/osrun/osrun/modules/hostscript/hostscripttest"
)

// linuxHost is a sandbox in which the module's sh scripts really run:
// OUTSYSTEMS_HOME, the staging directory, fake rpm and configurationtool.sh.
type linuxHost struct {
	t       *testing.T
	dir     string
	home    string
	staging string
	conn    *hostscripttest.ShellConn
}

func newLinuxHost(t *testing.T, installed string) *linuxHost {
	t.Helper()
	dir := t.TempDir()
	bin, err := filepath.Abs("testdata/bin")
	if err != nil {
		t.Fatal(err)
	}
	h := &linuxHost{t: t, dir: dir, home: filepath.Join(dir, "platform"), staging: filepath.Join(dir, "staging")}
	tool, err := os.ReadFile("testdata/configurationtool.sh")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(h.home, "configurationtool.sh"), string(tool), 0o755)
	if installed != "" {
		writeFile(t, filepath.Join(h.home, "version.txt"), installed+"\n", 0o644)
	}
	h.conn = &hostscripttest.ShellConn{Dir: dir, Bin: bin, Env: []string{"OS_HOME=" + h.home}}
	return h
}

func (h *linuxHost) read(name string) string {
	b, _ := os.ReadFile(filepath.Join(h.dir, name))
	return string(b)
}

func (h *linuxHost) version() string {
	b, _ := os.ReadFile(filepath.Join(h.home, "version.txt"))
	return strings.TrimSpace(string(b))
}

func (h *linuxHost) args(extra map[string]any) map[string]any {
	a := map[string]any{"version": "11.31.0", "install_dir": h.home, "staging_dir": h.staging}
	for k, v := range extra {
		a[k] = v
	}
	return a
}

// packages writes rpm stand-ins on the "control machine".
func packages(t *testing.T, content string) []string {
	dir := t.TempDir()
	return []string{
		writeFile(t, filepath.Join(dir, "outsystems-agileplatform-11.31.0.rpm"), content, 0o644),
		writeFile(t, filepath.Join(dir, "outsystems-agileplatform-wildfly8-11.31.0.rpm"), "libs\n", 0o644),
	}
}

func TestJ2EEUpgrade(t *testing.T) {
	tests := []struct {
		name       string
		controller bool
		wantTool   string
	}{
		{"front-end", false, "/silent /upgradeinstall\n"},
		{"controller adds /scinstall", true, "/silent /upgradeinstall /scinstall\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newLinuxHost(t, "11.29.1")
			a := mustBuild(t, h.args(map[string]any{"packages": packages(t, "version=11.31.0.45003\n")}))
			env, progress := hostEnv(h.conn, inventory.StackJ2EE, tt.controller)

			check, err := a.Check(t.Context(), env)
			if err != nil {
				t.Fatal(err)
			}
			if !check.Changed || check.Msg != "would upgrade 11.29.1 → 11.31.0" {
				t.Errorf("Check = %v %q", check.Changed, check.Msg)
			}
			if !strings.Contains(check.Diff, "rpm -Uvh "+h.staging+"/outsystems-agileplatform-11.31.0.rpm") || !strings.Contains(check.Diff, strings.TrimSpace(tt.wantTool)) {
				t.Errorf("Check diff:\n%s", check.Diff)
			}
			if len(h.conn.Uploads()) != 0 || h.read("rpm.log") != "" || h.version() != "11.29.1" {
				t.Fatal("Check changed the host")
			}

			res, err := a.Apply(t.Context(), env)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Changed || res.Msg != "upgraded 11.29.1 → 11.31.0.45003" {
				t.Errorf("Apply = %v %q", res.Changed, res.Msg)
			}
			if got := res.Output["version_before"].AsString() + " " + res.Output["version_after"].AsString(); got != "11.29.1 11.31.0.45003" {
				t.Errorf("outputs = %s", got)
			}
			if got := h.read("configtool.log"); got != tt.wantTool {
				t.Errorf("configurationtool.sh ran with %q, want %q", got, tt.wantTool)
			}
			if !strings.Contains(progress.String(), "Updating / installing... outsystems-agileplatform-11.31.0.rpm") {
				t.Errorf("rpm output not streamed:\n%s", progress)
			}
			for _, c := range h.conn.Calls() {
				id := hostscript.ID(c.Command)
				wantBecome := id == "installer/j2ee_install" || id == "installer/j2ee_configure"
				if c.Become != wantBecome {
					t.Errorf("%s: become = %v", id, c.Become)
				}
			}
			if left, _ := os.ReadDir(h.staging); len(left) != 0 {
				t.Errorf("staging not cleaned: %v", left)
			}

			n := len(h.conn.Calls())
			again, err := a.Apply(t.Context(), env)
			if err != nil || again.Changed {
				t.Fatalf("second Apply: %v %v %q", err, again.Changed, again.Msg)
			}
			if calls := h.conn.Calls()[n:]; len(calls) != 1 || hostscript.ID(calls[0].Command) != "installer/j2ee_state" {
				t.Errorf("second Apply sent more than the state read: %d calls", len(calls))
			}
		})
	}
}

func TestJ2EEScript(t *testing.T) {
	h := newLinuxHost(t, "11.29.1")
	script := writeFile(t, filepath.Join(t.TempDir(), "upgrade.sh"), "echo upgrading to $OSRUN_VERSION\nprintf '%s\\n' \"$OSRUN_VERSION.7\" > \"$OS_HOME/version.txt\"\n", 0o644)
	a := mustBuild(t, h.args(map[string]any{"script": script}))
	env, progress := hostEnv(h.conn, inventory.StackJ2EE, false)
	res, err := a.Apply(t.Context(), env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Output["version_after"].AsString() != "11.31.0.7" || !strings.Contains(progress.String(), "upgrading to 11.31.0") {
		t.Errorf("Apply = %q, progress:\n%s", res.Msg, progress)
	}
}

func TestJ2EEIdempotentAndRefusals(t *testing.T) {
	tests := []struct {
		name       string
		installed  string
		extra      map[string]any
		controller bool
		want       string // error; "" means no change
	}{
		{"same version", "11.31.0", nil, false, ""},
		{"same release, later build", "11.31.0.45003", nil, false, ""},
		{"downgrade refused", "11.31.1", nil, false, "refusing to downgrade Platform Server 11.31.1 → 11.31.0"},
		{"not installed", "", nil, false, "no Platform Server is installed"},
		{"unreadable version", "garbage", nil, false, `cannot read the installed version from "garbage"`},
		{"admin password on a J2EE controller", "11.29.1", map[string]any{"admin_password": password("pw")}, true, "admin_password is not supported on J2EE"},
		{".NET source on J2EE", "11.29.1", map[string]any{"packages": nil, "source": "/tmp/x.exe"}, false, "source and remote_path are for .NET hosts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newLinuxHost(t, tt.installed)
			args := h.args(map[string]any{"packages": packages(t, "version=11.31.0\n")})
			for k, v := range tt.extra {
				if v == nil {
					delete(args, k)
					continue
				}
				args[k] = v
			}
			a := mustBuild(t, args)
			env, _ := hostEnv(h.conn, inventory.StackJ2EE, tt.controller)
			check, cerr := a.Check(t.Context(), env)
			res, aerr := a.Apply(t.Context(), env)
			if tt.want != "" {
				wantErr(t, cerr, tt.want)
				wantErr(t, aerr, tt.want)
			} else {
				if cerr != nil || aerr != nil {
					t.Fatalf("errors: %v / %v", cerr, aerr)
				}
				if check.Changed || res.Changed {
					t.Errorf("changed: %q / %q", check.Msg, res.Msg)
				}
			}
			if h.read("rpm.log") != "" || h.read("configtool.log") != "" {
				t.Error("installer or Configuration Tool ran")
			}
		})
	}
}

func TestJ2EEFailures(t *testing.T) {
	t.Run("rpm failure shows rpm's message and keeps the upload for the retry", func(t *testing.T) {
		h := newLinuxHost(t, "11.29.1")
		pkgs := packages(t, "fail=error: Failed dependencies: java-11 is needed\n")
		a := mustBuild(t, h.args(map[string]any{"packages": pkgs}))
		env, _ := hostEnv(h.conn, inventory.StackJ2EE, false)
		_, err := a.Apply(t.Context(), env)
		wantErr(t, err, "rpm -Uvh "+h.staging+"/outsystems-agileplatform-11.31.0.rpm", "exited with status 1", "| error: Failed dependencies: java-11 is needed")
		if h.version() != "11.29.1" || h.read("configtool.log") != "" {
			t.Error("went on after rpm failed")
		}
		// The next run uploads nothing new: the transport sees the same digest.
		_, _ = a.Apply(t.Context(), env)
		ups := h.conn.Uploads()
		if len(ups) != 4 || !ups[2].Skipped || !ups[3].Skipped {
			t.Errorf("uploads = %+v", ups)
		}
	})

	t.Run("Configuration Tool failure shows its log, and the next run resumes with it", func(t *testing.T) {
		h := newLinuxHost(t, "11.29.1")
		writeFile(t, filepath.Join(h.dir, "configtool.exit"), "3\n", 0o644)
		a := mustBuild(t, h.args(map[string]any{"packages": packages(t, "version=11.31.0.45003\n")}))
		env, _ := hostEnv(h.conn, inventory.StackJ2EE, true)
		_, err := a.Apply(t.Context(), env)
		wantErr(t, err, "run the Configuration Tool", "configurationtool.sh /silent /upgradeinstall /scinstall", "status 3",
			"| Configuration failed", "logs/ConfigurationTool.log <==", "| ERROR: could not connect to the platform database")

		// The packages are upgraded; only the configuration is left.
		check, err := a.Check(t.Context(), env)
		if err != nil {
			t.Fatal(err)
		}
		if !check.Changed || !strings.Contains(check.Msg, "would run the Configuration Tool: 11.31.0.45003 is installed but its configuration did not finish") {
			t.Errorf("Check = %v %q", check.Changed, check.Msg)
		}
		os.Remove(filepath.Join(h.dir, "configtool.exit"))
		res, err := a.Apply(t.Context(), env)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Changed || res.Msg != "finished the configuration of 11.31.0.45003" {
			t.Errorf("resume = %v %q", res.Changed, res.Msg)
		}
		if got := strings.Count(h.read("rpm.log"), "rpm -Uvh"); got != 1 {
			t.Errorf("rpm ran %d times", got)
		}
		if got := strings.Count(h.read("configtool.log"), "/upgradeinstall"); got != 2 {
			t.Errorf("configuration tool ran %d times", got)
		}
		if again, err := a.Apply(t.Context(), env); err != nil || again.Changed {
			t.Errorf("third Apply: %v %v", err, again.Changed)
		}
	})

	t.Run("missing package in check mode", func(t *testing.T) {
		h := newLinuxHost(t, "11.29.1")
		a := mustBuild(t, h.args(map[string]any{"packages": []string{filepath.Join(t.TempDir(), "nope.rpm")}}))
		env, _ := hostEnv(h.conn, inventory.StackJ2EE, false)
		_, err := a.Check(t.Context(), env)
		wantErr(t, err, "nope.rpm: no such file")
	})
}

func TestJ2EEYum(t *testing.T) {
	tests := []struct {
		name, repo string
		wantErr    string
	}{
		{"repository has the release", "11.31.0.9\n", ""},
		{"repository has nothing newer", "", `the host reports version "11.29.1", not 11.31.0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newLinuxHost(t, "11.29.1")
			if tt.repo != "" {
				writeFile(t, filepath.Join(h.dir, "yum.version"), tt.repo, 0o644)
			}
			a := mustBuild(t, h.args(map[string]any{"yum_packages": []string{"outsystems-agileplatform*"}}))
			env, _ := hostEnv(h.conn, inventory.StackJ2EE, false)
			check, err := a.Check(t.Context(), env)
			if err != nil || !strings.Contains(check.Diff, "- yum -y update outsystems-agileplatform*\n") {
				t.Fatalf("Check = %v\n%s", err, check.Diff)
			}
			res, err := a.Apply(t.Context(), env)
			// The glob reaches yum unexpanded: yum matches package names.
			if got := h.read("yum.log"); got != "yum -y update outsystems-agileplatform*\n" {
				t.Errorf("yum ran as %q", got)
			}
			if tt.wantErr != "" {
				wantErr(t, err, tt.wantErr)
				return
			}
			if err != nil || res.Output["version_after"].AsString() != "11.31.0.9" {
				t.Fatalf("Apply = %v %q", err, res.Msg)
			}
			if len(h.conn.Uploads()) != 0 {
				t.Errorf("uploads = %+v", h.conn.Uploads())
			}
		})
	}
}
