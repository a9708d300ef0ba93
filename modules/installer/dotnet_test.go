package installer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules/hostscript"
	"github.com/osrun/osrun/modules/hostscript/hostscripttest"
)

const stagedExe = `C:\ProgramData\osrun\installer\PlatformServer-11.31.0.exe`

// winHost simulates a Windows server for the module's PowerShell scripts:
// it answers by script id and reads the $Variable = '...' lines at their
// top, as the lab farm's simulated hosts do.
type winHost struct {
	conn          *hostscripttest.FakeConn
	version       string // registry value Server; "" when not installed
	newVersion    string // what the installer installs
	pending       string // content of the marker file
	installerExit int
	toolExit      int
	installerRuns int
	hang          time.Duration // the installer takes this long
	toolCalls     []hostscripttest.Call
	fetched       map[string]string // To -> From
	// files is the host's file system: FakeConn's Files, or a real
	// transport's test server.
	files interface {
		has(path string) bool
		put(path, sha256 string)
		remove(path string)
	}
}

// fakeFiles is the file system of a FakeConn.
type fakeFiles struct{ c *hostscripttest.FakeConn }

func (f fakeFiles) has(p string) bool { _, ok := f.c.Files[p]; return ok }
func (f fakeFiles) put(p, sum string) { f.c.Files[p] = sum }
func (f fakeFiles) remove(p string)   { delete(f.c.Files, p) }

var psVar = regexp.MustCompile(`(?m)^\$(\w+) = '((?:[^']|'')*)'\r?$`)

func vars(script string) map[string]string {
	m := map[string]string{}
	for _, v := range psVar.FindAllStringSubmatch(script, -1) {
		m[v[1]] = strings.ReplaceAll(v[2], "''", "'")
	}
	return m
}

var setMarker = regexp.MustCompile(`Set-Content -LiteralPath \$Marker -Value '([^']*)'`)

func newWinHost(version string) *winHost {
	h := &winHost{version: version, newVersion: "11.31.0.45003", fetched: map[string]string{}}
	h.conn = &hostscripttest.FakeConn{ShellName: "powershell", Handle: h.handle, Files: map[string]string{}}
	h.files = fakeFiles{h.conn}
	return h
}

func (h *winHost) handle(c hostscripttest.Call) hostscripttest.Reply {
	v := vars(c.Command)
	switch hostscript.ID(c.Command) {
	case "installer/dotnet_state":
		var out strings.Builder
		if h.version != "" {
			fmt.Fprintf(&out, "osrun-version=%s\r\nosrun-install-dir=C:\\Program Files\\OutSystems\\Platform Server\\\r\n", h.version)
		}
		if h.pending != "" {
			fmt.Fprintf(&out, "osrun-pending=%s\r\n", h.pending)
		}
		return hostscripttest.Reply{Stdout: out.String()}
	case "installer/dotnet_prepare":
		return hostscripttest.Reply{}
	case "installer/dotnet_fetch":
		h.fetched[v["To"]] = v["From"]
		h.files.put(v["To"], strings.ToLower(v["Sha256"]))
		return hostscripttest.Reply{Stdout: "osrun-fetched=copied\r\n"}
	case "installer/dotnet_install":
		if !h.files.has(v["Installer"]) {
			return hostscripttest.Reply{Stderr: "This command cannot be run because the file cannot be found.", Status: 1}
		}
		h.installerRuns++
		if h.hang > 0 {
			time.Sleep(h.hang) // a fake clock under synctest
		}
		h.pending = setMarker.FindStringSubmatch(c.Command)[1]
		if h.installerExit == 0 || h.installerExit == 3010 || h.installerExit == 3011 {
			h.version = h.newVersion
		}
		return hostscripttest.Reply{Stdout: fmt.Sprintf("running %s /S\r\nosrun-installer-exit=%d\r\n", v["Installer"], h.installerExit)}
	case "installer/dotnet_configure":
		h.toolCalls = append(h.toolCalls, c)
		if h.toolExit != 0 {
			return hostscripttest.Reply{Stdout: "Upgrading installation...\r\n", Stderr: "Error upgrading the database model\r\n", Status: h.toolExit}
		}
		h.pending = ""
		h.files.remove(v["Installer"])
		return hostscripttest.Reply{Stdout: "Upgrading installation...\r\nosrun-configured=ok\r\n"}
	case "installer/dotnet_logtail":
		if strings.Contains(c.Command, "PlatformInstaller") {
			return hostscripttest.Reply{Stdout: "==> C:\\Users\\osrun\\AppData\\Local\\OutSystems\\PlatformInstaller\\PrerequisitesInstall.log <==\r\nInstalling .NET Hosting Bundle: failed (0x80070643)\r\n"}
		}
		return hostscripttest.Reply{Stdout: "==> C:\\Windows\\Temp\\ConfigurationTool.log <==\r\nERROR Login failed for user 'OSADMIN'\r\n"}
	}
	return hostscripttest.Reply{Stderr: "unexpected script", Status: 1}
}

func (h *winHost) ids() []string {
	var ids []string
	for _, c := range h.conn.Calls() {
		ids = append(ids, strings.TrimPrefix(hostscript.ID(c.Command), "installer/dotnet_"))
	}
	return ids
}

func installerFile(t *testing.T) (path, sum string) {
	content := "MZ fake Platform Server installer"
	s := sha256.Sum256([]byte(content))
	return writeFile(t, filepath.Join(t.TempDir(), "PlatformServer-11.31.0.exe"), content, 0o644), hex.EncodeToString(s[:])
}

func TestDotNetUpgrade(t *testing.T) {
	src, sum := installerFile(t)
	tests := []struct {
		name        string
		controller  bool
		args        map[string]any
		wantIDs     string
		wantTool    []string
		notTool     []string
		wantStdin   string
		wantUpload  bool
		wantFetched string
	}{
		{name: "front-end from an uploaded installer", args: map[string]any{"source": src, "sha256": sum},
			wantIDs: "state prepare install configure state", wantUpload: true,
			wantTool: []string{"$arguments = @('/UpgradeInstall')", "& .\\ConfigurationTool.com @arguments", `$InstallDir = 'C:\Program Files\OutSystems\Platform Server\'`},
			notTool:  []string{"/UpgradeEnvironment", "/SetPlatformServerAdminPassword"}},
		{name: "controller with admin password", controller: true, args: map[string]any{"source": src, "admin_password": password("s3cret'pw")},
			wantIDs: "state prepare install configure state", wantUpload: true,
			wantTool:  []string{"$arguments += '/UpgradeEnvironment'", "[Console]::In.ReadLine()", "/SetPlatformServerAdminPassword"},
			wantStdin: "s3cret'pw\n"},
		{name: "password ignored on a front-end", args: map[string]any{"source": src, "admin_password": password("s3cret")},
			wantIDs: "state prepare install configure state", wantUpload: true,
			notTool: []string{"/SetPlatformServerAdminPassword", "ReadLine"}},
		{name: "UNC share read by the host", args: map[string]any{"remote_path": `\\files\os\PlatformServer-11.31.0.exe`, "sha256": sum},
			wantIDs: "state prepare fetch install configure state", wantFetched: `\\files\os\PlatformServer-11.31.0.exe`},
		{name: "https read by the host, install dir given", args: map[string]any{"remote_path": "https://files.example.com/ps.exe", "sha256": sum, "install_dir": `D:\OutSystems`},
			wantIDs: "state prepare fetch install configure state", wantFetched: "https://files.example.com/ps.exe",
			wantTool: []string{`$InstallDir = 'D:\OutSystems'`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newWinHost("11.29.1.12")
			tt.args["version"] = "11.31.0"
			a := mustBuild(t, tt.args)
			env, _ := hostEnv(h.conn, inventory.StackDotNet, tt.controller)

			check, err := a.Check(t.Context(), env)
			if err != nil {
				t.Fatal(err)
			}
			if !check.Changed || check.Msg != "would upgrade 11.29.1.12 → 11.31.0" {
				t.Errorf("Check = %v %q", check.Changed, check.Msg)
			}
			if strings.Contains(check.Diff, "s3cret") || !strings.Contains(check.Diff, stagedExe+" /S") {
				t.Errorf("Check diff:\n%s", check.Diff)
			}
			if got := strings.Join(h.ids(), " "); got != "state" || len(h.conn.Uploads()) != 0 {
				t.Fatalf("Check sent %s and %d uploads", got, len(h.conn.Uploads()))
			}

			res, err := a.Apply(t.Context(), env)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Changed || res.Msg != "upgraded 11.29.1.12 → 11.31.0.45003" || res.Output["reboot_pending"].True() {
				t.Errorf("Apply = %v %q", res.Changed, res.Msg)
			}
			if got := strings.Join(h.ids()[1:], " "); got != tt.wantIDs {
				t.Errorf("scripts = %s, want %s", got, tt.wantIDs)
			}
			if ups := h.conn.Uploads(); tt.wantUpload != (len(ups) == 1) || (tt.wantUpload && (ups[0].Dst != stagedExe || ups[0].SHA256 != sum)) {
				t.Errorf("uploads = %+v", ups)
			}
			if tt.wantFetched != "" && h.fetched[stagedExe] != tt.wantFetched {
				t.Errorf("fetched = %v", h.fetched)
			}
			tool := h.toolCalls[0]
			for _, w := range tt.wantTool {
				if !strings.Contains(tool.Command, w) {
					t.Errorf("configure script lacks %q", w)
				}
			}
			for _, w := range tt.notTool {
				if strings.Contains(tool.Command, w) {
					t.Errorf("configure script has %q", w)
				}
			}
			if tool.Stdin != tt.wantStdin {
				t.Errorf("stdin = %q, want %q", tool.Stdin, tt.wantStdin)
			}
			for _, c := range h.conn.Calls() {
				if strings.Contains(c.Command, "s3cret") {
					t.Errorf("a script contains the password:\n%s", c.Command)
				}
			}

			n := len(h.conn.Calls())
			again, err := a.Apply(t.Context(), env)
			if err != nil || again.Changed || again.Msg != "Platform Server 11.31.0.45003 is installed" {
				t.Fatalf("second Apply: %v %v %q", err, again.Changed, again.Msg)
			}
			if len(h.conn.Calls()) != n+1 {
				t.Errorf("second Apply sent %d scripts", len(h.conn.Calls())-n)
			}
		})
	}
}

func TestDotNetInstallerExitCodes(t *testing.T) {
	src, _ := installerFile(t)
	tests := []struct {
		code        int
		allowReboot bool
		wantErr     []string
		wantMsg     string
	}{
		{1, false, []string{"exited with 1: the host needs a reboot", "allow_reboot_pending", "| Installing .NET Hosting Bundle: failed"}, ""},
		{3010, false, []string{"exited with 3010: the host needs a reboot"}, ""},
		{3011, false, []string{"exited with 3011: the host needs a reboot"}, ""},
		{2, false, []string{"run the installer: " + stagedExe + " /S failed with exit code 2", "PrerequisitesInstall.log <==", "| Installing .NET Hosting Bundle: failed (0x80070643)"}, ""},
		{2, true, []string{"failed with exit code 2"}, ""},
		{3010, true, nil, "upgraded 11.29.1 → 11.31.0.45003; the installer asked for a reboot (exit 3010)"},
		// Exit 1 here leaves the platform unchanged (only prerequisites ran).
		{1, true, []string{"the installer asked for a reboot (exit 1) and Platform Server is still 11.29.1: reboot the host and run again"}, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("exit %d allow %v", tt.code, tt.allowReboot), func(t *testing.T) {
			h := newWinHost("11.29.1")
			h.installerExit = tt.code
			a := mustBuild(t, map[string]any{"version": "11.31.0", "source": src, "allow_reboot_pending": tt.allowReboot})
			env, _ := hostEnv(h.conn, inventory.StackDotNet, false)
			res, err := a.Apply(t.Context(), env)
			if tt.wantErr != nil {
				wantErr(t, err, tt.wantErr...)
				if len(h.toolCalls) != 0 {
					t.Error("the Configuration Tool ran after the installer failed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Msg != tt.wantMsg || !res.Output["reboot_pending"].True() {
				t.Errorf("Apply = %q, reboot_pending %v", res.Msg, res.Output["reboot_pending"])
			}
		})
	}
}

func TestDotNetConfigurationToolFailureResumes(t *testing.T) {
	src, _ := installerFile(t)
	h := newWinHost("11.29.1")
	h.toolExit = 1
	a := mustBuild(t, map[string]any{"version": "11.31.0", "source": src})
	env, _ := hostEnv(h.conn, inventory.StackDotNet, true)
	_, err := a.Apply(t.Context(), env)
	wantErr(t, err, `run the Configuration Tool: C:\Program Files\OutSystems\Platform Server\ConfigurationTool.com /UpgradeInstall /UpgradeEnvironment`,
		"exited with status 1", "| Error upgrading the database model", `| ==> C:\Windows\Temp\ConfigurationTool.log <==`, "| ERROR Login failed for user 'OSADMIN'")

	check, err := a.Check(t.Context(), env)
	if err != nil || !check.Changed || check.Msg != "would run the Configuration Tool: 11.31.0.45003 is installed but its configuration did not finish" {
		t.Fatalf("Check after failure = %v %v %q", err, check.Changed, check.Msg)
	}
	h.toolExit = 0
	res, err := a.Apply(t.Context(), env)
	if err != nil || !res.Changed || res.Msg != "finished the configuration of 11.31.0.45003" {
		t.Fatalf("resume = %v %v %q", err, res.Changed, res.Msg)
	}
	if h.installerRuns != 1 || len(h.conn.Uploads()) != 1 || len(h.toolCalls) != 2 {
		t.Errorf("installer ran %d times, %d uploads, tool ran %d times", h.installerRuns, len(h.conn.Uploads()), len(h.toolCalls))
	}
}

func TestDotNetRefusals(t *testing.T) {
	src, sum := installerFile(t)
	tests := []struct {
		name      string
		installed string
		args      map[string]any
		want      []string
	}{
		{"downgrade", "11.32.0.1", map[string]any{"source": src}, []string{"refusing to downgrade Platform Server 11.32.0.1 → 11.31.0"}},
		{"not installed", "", map[string]any{"source": src}, []string{"no Platform Server is installed"}},
		{"J2EE packages", "11.29.1", map[string]any{"packages": []string{src}}, []string{"packages and script are for J2EE hosts"}},
		{"missing source", "11.29.1", map[string]any{"source": src + ".missing"}, []string{"source: stat", "no such file"}},
		{"source digest differs", "11.29.1", map[string]any{"source": src, "sha256": strings.Repeat("0", 64)}, []string{"has SHA-256 " + sum + ", expected 000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newWinHost(tt.installed)
			tt.args["version"] = "11.31.0"
			a := mustBuild(t, tt.args)
			env, _ := hostEnv(h.conn, inventory.StackDotNet, false)
			_, aerr := a.Apply(t.Context(), env)
			wantErr(t, aerr, tt.want...)
			if len(h.conn.Uploads()) != 0 || h.installerRuns != 0 {
				t.Error("something was uploaded or installed")
			}
			if tt.name == "source digest differs" { // only Apply hashes
				return
			}
			_, cerr := a.Check(t.Context(), env)
			wantErr(t, cerr, tt.want...)
		})
	}
}

func TestDotNetUploadSkippedWhenPresent(t *testing.T) {
	src, sum := installerFile(t)
	h := newWinHost("11.29.1")
	h.conn.Files = map[string]string{stagedExe: sum}
	a := mustBuild(t, map[string]any{"version": "11.31.0", "source": src})
	env, _ := hostEnv(h.conn, inventory.StackDotNet, false)
	if _, err := a.Apply(t.Context(), env); err != nil {
		t.Fatal(err)
	}
	if ups := h.conn.Uploads(); len(ups) != 1 || !ups[0].Skipped {
		t.Errorf("uploads = %+v", ups)
	}
}

func TestDotNetVersionUnchangedAfterInstall(t *testing.T) {
	src, _ := installerFile(t)
	h := newWinHost("11.29.1")
	h.newVersion = "11.29.1"
	a := mustBuild(t, map[string]any{"version": "11.31.0", "source": src})
	env, _ := hostEnv(h.conn, inventory.StackDotNet, false)
	_, err := a.Apply(t.Context(), env)
	wantErr(t, err, `the host reports version "11.29.1", not 11.31.0`)
}

// TestDotNetTimeout runs an installer that takes 80 minutes under a fake
// clock: too long for the default bound, fine within a task timeout of 90m.
func TestDotNetTimeout(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration // the task's; 0 leaves the module's default
		wantErr string
	}{
		{"default bound of 60m", 0, "run the Configuration Tool: timed out after 1h20m0s; the host may still be working: context deadline exceeded"},
		{"task timeout replaces the default", 90 * time.Minute, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				src, _ := installerFile(t)
				h := newWinHost("11.29.1")
				h.hang = 80 * time.Minute
				a := mustBuild(t, map[string]any{"version": "11.31.0", "source": src})
				env, _ := hostEnv(h.conn, inventory.StackDotNet, false)
				ctx := t.Context()
				if tt.timeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.timeout)
					defer cancel()
				}
				_, err := a.Apply(ctx, env)
				if tt.wantErr == "" {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				wantErr(t, err, tt.wantErr)
			})
		})
	}
}

func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name string
		args map[string]any
		want string
	}{
		{"no installer", map[string]any{}, "give the installer"},
		{"two installers", map[string]any{"source": "a", "remote_path": "b", "sha256": strings.Repeat("a", 64)}, "only one of"},
		{"remote without digest", map[string]any{"remote_path": `\\s\x.exe`}, "sha256 is required with remote_path"},
		{"bad digest", map[string]any{"source": "a", "sha256": "abc"}, "not 64 hex digits"},
		{"digest with packages", map[string]any{"packages": []string{"a.rpm"}, "sha256": strings.Repeat("a", 64)}, "does not apply to packages"},
		{"bad version", map[string]any{"source": "a", "version": "latest"}, `"latest" is not a version`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := tt.args["version"]; !ok {
				tt.args["version"] = "11.31.0"
			}
			_, err := build(t, tt.args)
			wantErr(t, err, tt.want)
		})
	}
}
