package installer

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/osrun/osrun/modules/hostscript"
)

const (
	j2eeStaging = "/var/tmp/osrun"
	j2eeHome    = "/opt/outsystems/platform"
)

type j2ee struct {
	runEnv
	home    string
	staging string
	marker  string
	running string // the installer's process id while it runs
	// staged maps each local file to its path on the host.
	staged [][2]string
}

func newJ2EE(re runEnv) (*j2ee, error) {
	a := re.a
	switch {
	case a.source != "" || a.remotePath != "":
		return nil, errors.New("source and remote_path are for .NET hosts; give packages, yum_packages or script")
	case re.controller && !a.password.IsZero():
		return nil, errors.New("admin_password is not supported on J2EE: configurationtool.sh has no documented option for it")
	}
	j := &j2ee{runEnv: re, home: a.installDir, staging: a.staging}
	if j.home == "" {
		j.home = j2eeHome
	}
	if j.staging == "" {
		j.staging = j2eeStaging
	}
	j.marker = path.Join(j.staging, "pending-configuration")
	j.running = path.Join(j.staging, "installer-running")
	local := a.packages
	if a.script != "" {
		local = []string{a.script}
	}
	for _, p := range local {
		j.staged = append(j.staged, [2]string{p, path.Join(j.staging, filepath.Base(p))})
	}
	return j, nil
}

func (j *j2ee) state(ctx context.Context) (installed, error) {
	out, err := j.exec(ctx, "j2ee_state.sh", map[string]string{"Home": j.home, "Marker": j.marker, "Running": j.running}, hostscript.Script{})
	if err != nil {
		return installed{}, hostscript.Annotate(fmt.Errorf("read the installed version: %w", err), out.Tail())
	}
	raw, _ := out.Value("version")
	pending, _ := out.Value("pending")
	running, _ := out.Value("running")
	return installed{version: parseInstalled(raw), raw: raw, pending: pending, running: running}, nil
}

func (j *j2ee) plan(installed) ([]string, error) {
	var steps []string
	for _, s := range j.staged {
		size, err := stat(s[0])
		if err != nil {
			return nil, err
		}
		steps = append(steps, fmt.Sprintf("upload %s (%d MB) to %s unless already there", s[0], size>>20, s[1]))
	}
	return append(steps, j.installLine(), j.configureSteps(installed{})), nil
}

func (j *j2ee) installLine() string {
	switch {
	case j.a.script != "":
		return "sh " + j.remote()[0]
	case len(j.a.yum) > 0:
		return "yum -y update " + strings.Join(j.a.yum, " ")
	}
	return "rpm -Uvh " + strings.Join(j.remote(), " ")
}

func (j *j2ee) configureSteps(installed) string {
	line := path.Join(j.home, "configurationtool.sh") + " /silent /upgradeinstall"
	if j.controller {
		line += " /scinstall"
	}
	return line
}

func (j *j2ee) stage(ctx context.Context) error {
	if out, err := j.exec(ctx, "j2ee_prepare.sh", map[string]string{"Staging": j.staging}, hostscript.Script{}); err != nil {
		return hostscript.Annotate(fmt.Errorf("create %s: %w", j.staging, err), out.Tail())
	}
	for _, s := range j.staged {
		if err := j.upload(ctx, s[0], s[1], j.a.sha256); err != nil {
			return err
		}
	}
	return nil
}

func (j *j2ee) remote() []string {
	var r []string
	for _, s := range j.staged {
		r = append(r, s[1])
	}
	return r
}

func (j *j2ee) install(ctx context.Context) (int, error) {
	data := map[string]any{"Marker": j.marker, "Running": j.running, "Output": path.Join(j.staging, "installer-output.log"), "Version": j.a.targetText, "Packages": []string(nil), "Yum": j.a.yum, "Script": ""}
	switch {
	case j.a.script != "":
		data["Script"] = j.remote()[0]
	case len(j.a.yum) == 0:
		data["Packages"] = j.remote()
	}
	what := j.installLine()
	if _, err := j.exec(ctx, "j2ee_intent.sh", map[string]string{"Running": j.running}, hostscript.Script{}); err != nil {
		return 0, fmt.Errorf("record that the installer is starting: %w", err)
	}
	j.progress("running " + what)
	out, err := j.exec(ctx, "j2ee_install.sh", data, hostscript.Script{Become: true, Progress: j.progress})
	if err != nil {
		return 0, hostscript.Annotate(fmt.Errorf("%s: %w", what, err), out.Tail())
	}
	return 0, nil
}

func (j *j2ee) configure(ctx context.Context, _ installed) error {
	data := map[string]any{"Home": j.home, "Marker": j.marker, "Controller": j.controller, "Cleanup": j.remote()}
	j.progress("running " + j.configureSteps(installed{}))
	out, err := j.exec(ctx, "j2ee_configure.sh", data, hostscript.Script{Become: true, Progress: j.progress})
	if err != nil {
		lines := append(out.Tail(), j.logTail(ctx, "j2ee_logtail.sh", map[string]any{"Home": j.home})...)
		return hostscript.Annotate(fmt.Errorf("%s: %w", j.configureSteps(installed{}), err), lines)
	}
	return nil
}
