package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/osrun/osrun/lab/farm"
)

// The lab farm's flags, shared by apply --lab and lab up.
var (
	labZonesFlag     = &cli.IntFlag{Name: "lab-zones", Value: 2, Usage: "zones in the lab farm"}
	labFrontendsFlag = &cli.IntFlag{Name: "lab-frontends", Value: 4, Usage: "front-ends per zone in the lab farm, .NET and J2EE in turn"}
	labLBFlag        = &cli.StringFlag{Name: "lab-lb", Value: "sim", Usage: "the lab's load balancer: sim (built in, speaks HAProxy's runtime API) or haproxy (the real binary, from PATH)"}
	labSSHDFlag      = &cli.StringFlag{Name: "lab-sshd", Usage: "serve the lab's J2EE front-ends with real OpenSSH sshd processes, this `SSHD` binary (e.g. /usr/sbin/sshd), logging in the current user"}
	labFailFlag      = &cli.StringSliceFlag{Name: "lab-fail-installer", Usage: "make the installer fail on these lab `HOSTS`, to rehearse a failed upgrade"}
)

// labFarmFlags size and shape the lab farm.
var labFarmFlags = []cli.Flag{labZonesFlag, labFrontendsFlag, labLBFlag, labSSHDFlag, labFailFlag}

// labConfig reads the lab farm's flags; dir ("" for a temporary one) must
// be new or empty.
func labConfig(c *cli.Context, dir, toVersion string) (farm.Config, error) {
	cfg := farm.Config{Zones: c.Int("lab-zones"), FrontendsPerZone: c.Int("lab-frontends"), ToVersion: toVersion, Balancer: c.String("lab-lb"), Dir: dir, SSHD: c.String("lab-sshd")}
	switch {
	case cfg.Balancer != "sim" && cfg.Balancer != "haproxy":
		return cfg, &configError{msg: fmt.Sprintf("--lab-lb %q: want sim or haproxy", cfg.Balancer)}
	case cfg.Zones < 1:
		return cfg, &configError{msg: "--lab-zones must be at least 1"}
	case cfg.FrontendsPerZone < 1:
		return cfg, &configError{msg: "--lab-frontends must be at least 1"}
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return cfg, &configError{msg: "lab directory: " + err.Error()}
		}
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			return cfg, &configError{msg: fmt.Sprintf("lab directory %s is not empty: give a new directory", dir)}
		}
	}
	return cfg, nil
}

// startLab starts the farm (ctx bounds its load) and injects the failures
// --lab-fail-installer asks for. The caller closes the farm.
func startLab(ctx context.Context, c *cli.Context, cfg farm.Config) (*farm.Farm, error) {
	f, err := farm.Start(ctx, cfg)
	if err != nil {
		return nil, &configError{msg: err.Error()}
	}
	for _, name := range splitList(c.StringSlice("lab-fail-installer")) {
		if err := failInstaller(f, name); err != nil {
			f.Close()
			return nil, &configError{msg: err.Error()}
		}
	}
	return f, nil
}

func failInstaller(f *farm.Farm, name string) error {
	fe := f.Frontend(name)
	switch {
	case fe == nil:
		return fmt.Errorf("--lab-fail-installer %s: the lab has no such front-end (fe01..fe%02d)", name, len(f.Frontends()))
	case fe.Windows != nil:
		fe.Windows.FailInstaller(1603, "Installing .NET Hosting Bundle: failed (0x80070643): Fatal error during installation")
		return nil
	}
	return fe.Linux.FailInstaller("ERROR: could not upgrade the platform database: ORA-01031: insufficient privileges")
}

// labVerdict stops the farm's load, prints its verdict to out and decides
// the outcome: runErr (the run's own error, nil when there was none)
// first; otherwise a verdict that saw failed requests, a broken front-end
// in rotation or a lab problem exits with ExitHostFailed.
func labVerdict(out io.Writer, f *farm.Farm, runErr error) error {
	v := f.Verdict()
	fmt.Fprint(out, v.String())
	if v.OK() {
		return runErr
	}
	msg := fmt.Sprintf("the lab saw downtime: %d of %d requests failed, %d invariant violations",
		v.Traffic.Failed, v.Traffic.Sent, len(v.Traffic.Violations)+v.Traffic.DroppedViolations)
	if len(v.Problems) > 0 {
		msg += fmt.Sprintf(", %d lab problems", len(v.Problems))
	}
	if runErr != nil {
		return &runError{code: exitCode(runErr), msg: runErr.Error() + "; " + msg}
	}
	return &runError{code: ExitHostFailed, msg: msg}
}
