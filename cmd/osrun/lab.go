package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/osrun/osrun/lab/farm"
	"github.com/osrun/osrun/modules/builtin"
	"github.com/osrun/osrun/report/live"
)

// labFlags are apply's flags for the built-in lab farm (lab/farm).
var labFlags = []cli.Flag{
	&cli.BoolFlag{Name: "lab", Usage: "run the playbook against the built-in lab farm, under traffic, and end with its verdict (non-zero exit if a request failed)"},
	&cli.IntFlag{Name: "lab-zones", Value: 2, Usage: "zones in the lab farm"},
	&cli.IntFlag{Name: "lab-frontends", Value: 4, Usage: "front-ends per zone in the lab farm, .NET and J2EE in turn"},
	&cli.StringFlag{Name: "lab-lb", Value: "sim", Usage: "the lab's load balancer: sim (built in, speaks HAProxy's runtime API) or haproxy (the real binary, from PATH)"},
	&cli.StringFlag{Name: "lab-sshd", Usage: "serve the lab's J2EE front-ends with real OpenSSH sshd processes, this `SSHD` binary (e.g. /usr/sbin/sshd), logging in the current user"},
	&cli.StringFlag{Name: "lab-dir", Usage: "keep the lab's inventory, secrets, journal, logs and host sandboxes in `DIR` (default: a temporary directory removed at the end)"},
	&cli.StringSliceFlag{Name: "lab-fail-installer", Usage: "make the installer fail on these lab `HOSTS`, to rehearse a failed upgrade"},
}

// labPoll is how often modules poll the lab's balancer, Service Center and
// services: the lab's installers take a fraction of a second.
const labPoll = 50 * time.Millisecond

// applyLab starts the lab farm, runs the playbook against the inventory it
// wrote with the variables it needs, and prints the farm's verdict. The
// run's own outcome decides the exit code first; a clean run that the
// farm saw fail requests, or put a broken front-end in rotation, exits
// with ExitHostFailed.
func applyLab(c *cli.Context) error {
	switch {
	case c.IsSet("inventory"):
		return &configError{msg: "--lab writes its own inventory: drop -i/--inventory"}
	case c.String("lab-lb") != "sim" && c.String("lab-lb") != "haproxy":
		return &configError{msg: fmt.Sprintf("--lab-lb %q: want sim or haproxy", c.String("lab-lb"))}
	case c.NArg() != 1:
		return &configError{msg: "expected exactly one playbook file (e.g. osrun apply --lab playbooks/upgrade.hcl)"}
	}
	given, err := parseVars(c.StringSlice("var"))
	if err != nil {
		return err
	}
	cfg := farm.Config{Zones: c.Int("lab-zones"), FrontendsPerZone: c.Int("lab-frontends"), ToVersion: given["target_version"], Balancer: c.String("lab-lb"), Dir: c.String("lab-dir"), SSHD: c.String("lab-sshd")}
	if cfg.Zones < 1 {
		return &configError{msg: "--lab-zones must be at least 1"}
	}
	if c.Int("lab-frontends") < 1 {
		return &configError{msg: "--lab-frontends must be at least 1"}
	}
	out := c.App.Writer
	if c.String("output") != "text" {
		out = c.App.ErrWriter // keep stdout machine-readable
	}
	if cfg.Dir != "" {
		if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
			return &configError{msg: "--lab-dir: " + err.Error()}
		}
		if entries, _ := os.ReadDir(cfg.Dir); len(entries) > 0 {
			return &configError{msg: fmt.Sprintf("--lab-dir %s is not empty: give a new directory", cfg.Dir)}
		}
	}
	f, err := farm.Start(c.Context, cfg)
	if err != nil {
		return &configError{msg: err.Error()}
	}
	defer f.Close()
	for _, name := range splitList(c.StringSlice("lab-fail-installer")) {
		if err := failInstaller(f, name); err != nil {
			return &configError{msg: err.Error()}
		}
	}
	fmt.Fprintf(out, "lab: %d front-ends in %d zones, traffic through %s; inventory %s\n",
		len(f.Frontends()), cfg.Zones, f.URL(), f.Inventory())

	// The farm's variables go first so that --var wins, and its inventory
	// is the one the playbook runs against.
	if err := c.Set("inventory", f.Inventory()); err != nil {
		return err
	}
	vars := f.Vars()
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		if _, ok := given[k]; ok {
			continue
		}
		if err := c.Set("var", k+"="+vars[k]); err != nil {
			return err
		}
	}
	c.Context = context.WithValue(c.Context, labFarmKey{}, f)
	runErr := applyWith(c, builtin.Options{PollInterval: labPoll})
	if _, isConfig := runErr.(*configError); isConfig {
		return runErr
	}
	v := f.Verdict()
	fmt.Fprint(out, v.String())
	if cfg.Dir == "" {
		fmt.Fprintf(out, "lab: %s (inventory, journal, logs, host sandboxes) is removed now; keep it with --lab-dir DIR\n", f.Dir())
	}
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

// labFarmKey carries the running lab farm in the command's context, for
// watchTraffic.
type labFarmKey struct{}

// watchTraffic feeds the live view the lab's request counters while the
// run lasts and returns the function that stops it; outside the lab, or
// without a live view, it does nothing.
func watchTraffic(c *cli.Context, view *live.View) (stop func()) {
	f, _ := c.Context.Value(labFarmKey{}).(*farm.Farm)
	if f == nil || view == nil {
		return func() {}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			r := f.Load().Snapshot()
			view.SetTraffic(r.Sent-r.Failed, r.Failed)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
