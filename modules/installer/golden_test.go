package installer

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/osrun/osrun/modules/hostscript"
	"github.com/osrun/osrun/modules/hostscript/hostscripttest"
)

// TestGolden renders every script the module can send; the golden files
// under testdata/golden are what a reviewer reads.
func TestGolden(t *testing.T) {
	const (
		staging   = `C:\ProgramData\osrun\installer`
		exe       = staging + `\PlatformServer-11.31.0.exe`
		marker    = staging + `\pending-configuration.txt`
		running   = staging + `\installer-running.txt`
		installTo = `C:\Program Files\OutSystems\Platform Server`
		sum       = "9F2C0E1D9F2C0E1D9F2C0E1D9F2C0E1D9F2C0E1D9F2C0E1D9F2C0E1D9F2C0E1D"
	)
	cases := []struct {
		file, tmpl string
		data       map[string]any
	}{
		{"dotnet_state.ps1", "dotnet_state.ps1", map[string]any{"Marker": marker, "Running": running}},
		{"dotnet_prepare.ps1", "dotnet_prepare.ps1", map[string]any{"Staging": staging}},
		{"dotnet_fetch_unc.ps1", "dotnet_fetch.ps1", map[string]any{"From": `\\files\outsystems\PlatformServer-11.31.0.exe`, "To": exe, "SHA256": sum, "HTTP": false}},
		{"dotnet_fetch_https.ps1", "dotnet_fetch.ps1", map[string]any{"From": "https://files.example.com/PlatformServer-11.31.0.exe", "To": exe, "SHA256": sum, "HTTP": true}},
		{"dotnet_install.ps1", "dotnet_install.ps1", map[string]any{"Installer": exe, "Marker": marker, "Running": running, "Version": "11.31.0"}},
		{"dotnet_configure_frontend.ps1", "dotnet_configure.ps1", map[string]any{"InstallDir": installTo, "Marker": marker, "Installer": exe, "Controller": false, "Password": false}},
		{"dotnet_configure_controller.ps1", "dotnet_configure.ps1", map[string]any{"InstallDir": installTo, "Marker": marker, "Installer": exe, "Controller": true, "Password": true}},
		{"dotnet_logtail_install.ps1", "dotnet_logtail.ps1", map[string]any{"Step": "install", "Lines": 40}},
		{"dotnet_logtail_configure.ps1", "dotnet_logtail.ps1", map[string]any{"Step": "configure", "Lines": 40}},
		{"j2ee_state.sh", "j2ee_state.sh", map[string]any{"Home": "/opt/outsystems/platform", "Marker": "/var/tmp/osrun/pending-configuration", "Running": "/var/tmp/osrun/installer-running"}},
		{"j2ee_prepare.sh", "j2ee_prepare.sh", map[string]any{"Staging": "/var/tmp/osrun"}},
		{"j2ee_intent.sh", "j2ee_intent.sh", map[string]any{"Running": "/var/tmp/osrun/installer-running"}},
		{"j2ee_install_packages.sh", "j2ee_install.sh", map[string]any{"Marker": "/var/tmp/osrun/pending-configuration", "Running": "/var/tmp/osrun/installer-running", "Output": "/var/tmp/osrun/installer-output.log", "Version": "11.31.0",
			"Packages": []string{"/var/tmp/osrun/outsystems-agileplatform-11.31.0.rpm", "/var/tmp/osrun/outsystems-agileplatform-wildfly8-11.31.0.rpm"}, "Yum": []string(nil), "Script": ""}},
		{"j2ee_install_script.sh", "j2ee_install.sh", map[string]any{"Marker": "/var/tmp/osrun/pending-configuration", "Running": "/var/tmp/osrun/installer-running", "Output": "/var/tmp/osrun/installer-output.log", "Version": "11.31.0", "Packages": []string(nil), "Yum": []string(nil), "Script": "/var/tmp/osrun/upgrade it's.sh"}},
		{"j2ee_install_yum.sh", "j2ee_install.sh", map[string]any{"Marker": "/var/tmp/osrun/pending-configuration", "Running": "/var/tmp/osrun/installer-running", "Output": "/var/tmp/osrun/installer-output.log", "Version": "11.31.0", "Packages": []string(nil), "Yum": []string{"outsystems-agileplatform*"}, "Script": ""}},
		{"j2ee_configure_frontend.sh", "j2ee_configure.sh", map[string]any{"Home": "/opt/outsystems/platform", "Marker": "/var/tmp/osrun/pending-configuration", "Controller": false, "Cleanup": []string{"/var/tmp/osrun/a.rpm"}}},
		{"j2ee_configure_controller.sh", "j2ee_configure.sh", map[string]any{"Home": "/opt/outsystems/platform", "Marker": "/var/tmp/osrun/pending-configuration", "Controller": true, "Cleanup": []string{"/var/tmp/osrun/a.rpm"}}},
		{"j2ee_logtail.sh", "j2ee_logtail.sh", map[string]any{"Home": "/opt/outsystems/platform", "Lines": 40}},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.tmpl] = true
		t.Run(c.file, func(t *testing.T) {
			got, err := scripts.Render(c.tmpl, c.data)
			if err != nil {
				t.Fatal(err)
			}
			if want := "installer/" + strings.TrimSuffix(c.tmpl, filepath.Ext(c.tmpl)); hostscript.ID(got) != want {
				t.Errorf("id = %q, want %q", hostscript.ID(got), want)
			}
			// A PowerShell script sent as -EncodedCommand grows 8/3 times
			// (UTF-16, base64) and cmd.exe stops at 8191 characters.
			if strings.HasSuffix(c.file, ".ps1") && len(got) > 2900 {
				t.Errorf("%d characters: too long for powershell -EncodedCommand", len(got))
			}
			hostscripttest.Golden(t, filepath.Join("testdata", "golden", c.file), got)
			if strings.HasSuffix(c.file, ".sh") {
				hostscripttest.SyntaxCheckSh(t, got)
			}
		})
	}
	hostscripttest.AllCovered(t, scripts.Names(), covered)
}
