package installer

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/osrun/osrun/modules/hostscript"
)

const (
	dotnetStaging    = `C:\ProgramData\osrun\installer`
	dotnetInstallDir = `C:\Program Files\OutSystems\Platform Server`
)

type dotnet struct {
	runEnv
	staging   string
	installer string // staged installer path
	marker    string
	running   string // the installer's process id while it runs
}

func winJoin(dir, name string) string { return strings.TrimRight(dir, `\/`) + `\` + name }

func newDotNet(re runEnv) (*dotnet, error) {
	a := re.a
	if len(a.packages) > 0 || len(a.yum) > 0 || a.script != "" {
		return nil, fmt.Errorf("packages, yum_packages and script are for J2EE hosts; give source or remote_path")
	}
	d := &dotnet{runEnv: re, staging: a.staging}
	if d.staging == "" {
		d.staging = dotnetStaging
	}
	d.installer = winJoin(d.staging, "PlatformServer-"+a.targetText+".exe")
	d.marker = winJoin(d.staging, "pending-configuration.txt")
	d.running = winJoin(d.staging, "installer-running.txt")
	return d, nil
}

func (d *dotnet) state(ctx context.Context) (installed, error) {
	out, err := d.exec(ctx, "dotnet_state.ps1", map[string]string{"Marker": d.marker, "Running": d.running}, hostscript.Script{})
	if err != nil {
		return installed{}, hostscript.Annotate(fmt.Errorf("read the installed version: %w", err), out.Tail())
	}
	raw, _ := out.Value("version")
	dir, _ := out.Value("install-dir")
	pending, _ := out.Value("pending")
	running, _ := out.Value("running")
	return installed{version: parseInstalled(raw), raw: raw, installDir: dir, pending: pending, running: running}, nil
}

func (d *dotnet) installDir(st installed) string {
	switch {
	case d.a.installDir != "":
		return d.a.installDir
	case st.installDir != "":
		return st.installDir
	}
	return dotnetInstallDir
}

func (d *dotnet) plan(st installed) ([]string, error) {
	var steps []string
	if d.a.source != "" {
		size, err := stat(d.a.source)
		if err != nil {
			return nil, fmt.Errorf("source: %w", err)
		}
		steps = append(steps, fmt.Sprintf("upload %s (%d MB) to %s unless already there", d.a.source, size>>20, d.installer))
	} else {
		steps = append(steps, fmt.Sprintf("copy %s to %s unless already there, verifying SHA-256", d.a.remotePath, d.installer))
	}
	steps = append(steps, d.installer+" /S", d.configureLine(st))
	return steps, nil
}

func (d *dotnet) configureLine(st installed) string {
	line := winJoin(d.installDir(st), "ConfigurationTool.com") + " /UpgradeInstall"
	if d.controller {
		if !d.a.password.IsZero() {
			line += " /SetPlatformServerAdminPassword " + d.a.password.String()
		}
		line += " /UpgradeEnvironment"
	}
	return line
}

func (d *dotnet) configureSteps(st installed) string { return d.configureLine(st) }

func (d *dotnet) stage(ctx context.Context) error {
	if out, err := d.exec(ctx, "dotnet_prepare.ps1", map[string]string{"Staging": d.staging}, hostscript.Script{}); err != nil {
		return hostscript.Annotate(fmt.Errorf("create %s: %w", d.staging, err), out.Tail())
	}
	if d.a.source != "" {
		return d.upload(ctx, d.a.source, d.installer, d.a.sha256)
	}
	from := d.a.remotePath
	d.progress(fmt.Sprintf("copying %s to %s", from, d.installer))
	lower := strings.ToLower(from)
	data := map[string]any{
		"From":   from,
		"To":     d.installer,
		"SHA256": strings.ToUpper(d.a.sha256),
		"HTTP":   strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "http://"),
	}
	out, err := d.exec(ctx, "dotnet_fetch.ps1", data, hostscript.Script{Progress: d.progress})
	if err != nil {
		return hostscript.Annotate(fmt.Errorf("copy %s to %s: %w", from, d.installer, err), out.Tail())
	}
	return nil
}

// installerExit classifies PlatformServer-<version>.exe exit codes: the
// docs name 1 for "reboot to finish the prerequisites"; SetupTools treats
// 3010/3011 the same way.
func installerExit(code int) (reboot bool, ok bool) {
	switch code {
	case 0:
		return false, true
	case 1, 3010, 3011:
		return true, true
	}
	return false, false
}

func (d *dotnet) install(ctx context.Context) (int, error) {
	data := map[string]string{"Installer": d.installer, "Marker": d.marker, "Running": d.running, "Version": d.a.targetText}
	out, err := d.exec(ctx, "dotnet_install.ps1", data, hostscript.Script{Progress: d.progress})
	if err != nil {
		return 0, hostscript.Annotate(fmt.Errorf("%s /S: %w", d.installer, err), out.Tail())
	}
	text, _ := out.Value("installer-exit")
	code, err := strconv.Atoi(text)
	if err != nil {
		return 0, hostscript.Annotate(fmt.Errorf("%s /S: no exit code reported", d.installer), out.Tail())
	}
	reboot, ok := installerExit(code)
	switch {
	case !ok:
		err = fmt.Errorf("%s /S failed with exit code %d", d.installer, code)
	case reboot && !d.a.allowReboot:
		err = fmt.Errorf("%s /S exited with %d: the host needs a reboot to finish; reboot it and run again, or set allow_reboot_pending", d.installer, code)
	case reboot:
		d.progress(fmt.Sprintf("the installer asked for a reboot (exit %d); carrying on as allow_reboot_pending is set", code))
		return code, nil
	default:
		return 0, nil
	}
	return 0, hostscript.Annotate(err, d.logTail(ctx, "dotnet_logtail.ps1", map[string]any{"Step": "install"}))
}

func (d *dotnet) configure(ctx context.Context, st installed) error {
	usePassword := d.controller && !d.a.password.IsZero()
	data := map[string]any{
		"InstallDir": d.installDir(st),
		"Marker":     d.marker,
		"Installer":  d.installer,
		"Controller": d.controller,
		"Password":   usePassword,
	}
	s := hostscript.Script{Progress: d.progress}
	if usePassword {
		s.Stdin = strings.NewReader(d.a.password.Reveal() + "\n")
	}
	d.progress("running " + d.configureLine(st))
	out, err := d.exec(ctx, "dotnet_configure.ps1", data, s)
	if err != nil {
		lines := append(out.Tail(), d.logTail(ctx, "dotnet_logtail.ps1", map[string]any{"Step": "configure"})...)
		return hostscript.Annotate(fmt.Errorf("%s: %w", d.configureLine(st), err), lines)
	}
	return nil
}
