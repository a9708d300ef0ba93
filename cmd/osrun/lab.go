package main

import (
	"context"
	"fmt"
	"maps"
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
	labZonesFlag, labFrontendsFlag, labLBFlag, labSSHDFlag,
	&cli.StringFlag{Name: "lab-dir", Usage: "keep the lab's inventory, secrets, journal, logs and host sandboxes in `DIR` (default: a temporary directory removed at the end)"},
	labFailFlag,
	pollIntervalFlag,
}

// pollIntervalFlag lets a run against a lab started with `osrun lab up`
// poll as fast as apply --lab does.
var pollIntervalFlag = &cli.DurationFlag{Name: "poll-interval", Usage: "how often modules poll load balancers, Service Center and services (default: each module's own; the lab's installers take a fraction of a second, so osrun lab up suggests 50ms)"}

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
	case c.NArg() != 1:
		return &configError{msg: "expected exactly one playbook file (e.g. osrun apply --lab playbooks/upgrade.hcl)"}
	}
	given, err := parseVars(c.StringSlice("var"))
	if err != nil {
		return err
	}
	cfg, err := labConfig(c, c.String("lab-dir"), given["target_version"])
	if err != nil {
		return err
	}
	out := c.App.Writer
	if c.String("output") != "text" {
		out = c.App.ErrWriter // keep stdout machine-readable
	}
	f, err := startLab(c.Context, c, cfg)
	if err != nil {
		return err
	}
	defer f.Close()
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
	err = labVerdict(out, f, runErr)
	if cfg.Dir == "" {
		fmt.Fprintf(out, "lab: %s (inventory, journal, logs, host sandboxes) is removed now; keep it with --lab-dir DIR\n", f.Dir())
	}
	return err
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
