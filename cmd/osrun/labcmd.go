package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/urfave/cli/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/lab/farm"
)

// labVarsFile is the playbook variables file lab up writes next to the
// inventory.
const labVarsFile = "lab.vars.hcl"

// labCommand runs the lab farm on its own, in the foreground, for apply,
// --check, status and preflight to be tried against from another shell.
func labCommand() *cli.Command {
	// "up" is the command's argument rather than a subcommand, so that
	// its flags may come after it like every other command's
	// (interspersed).
	return &cli.Command{
		Name:      "lab",
		Usage:     "lab up: run the built-in lab farm on its own, under traffic, to try osrun's commands against",
		ArgsUsage: "up",
		Description: "osrun lab up starts the lab farm in the foreground, writes inventory.hcl and lab.vars.hcl into its\n" +
			"directory and prints the commands to run against it from another shell. On SIGINT or SIGTERM it\n" +
			"stops the traffic and prints the verdict (as apply --lab does) and how many times an installer ran\n" +
			"on each host; the exit code is non-zero if a request failed or a front-end was in rotation while\n" +
			"down or broken.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "dir", Usage: "write the inventory, variables, secrets, journals and host sandboxes into `DIR`, new or empty (default: a temporary directory removed at the end)"},
			&cli.StringFlag{Name: "target-version", Value: "11.31.0", Usage: "the `VERSION` the lab's installers install"},
			&cli.DurationFlag{Name: "duration", Value: time.Hour, Usage: "stop sending traffic after this long at most"},
		}, labFarmFlags...),
		Action: labUp,
	}
}

func labUp(c *cli.Context) error {
	if c.NArg() != 1 || c.Args().First() != "up" {
		return &configError{msg: "usage: osrun lab up [--dir DIR] [--lab-zones Z] [--lab-frontends N] [--lab-lb sim|haproxy]"}
	}
	cfg, err := labConfig(c, c.String("dir"), c.String("target-version"))
	if err != nil {
		return err
	}
	if cfg.MaxDuration = c.Duration("duration"); cfg.MaxDuration <= 0 {
		return &configError{msg: "--duration must be positive"}
	}
	// Enough requests for the whole duration at the lab's pace (4 clients,
	// one request each 10ms at most).
	cfg.MaxRequests = int(cfg.MaxDuration/time.Millisecond)/10*4 + 1
	// The load runs until the verdict, not until the signal that asks for it.
	f, err := startLab(context.WithoutCancel(c.Context), c, cfg)
	if err != nil {
		return err
	}
	defer f.Close()
	vars := filepath.Join(f.Dir(), labVarsFile)
	if err := writeLabVars(vars, f.Vars()); err != nil {
		return &configError{msg: err.Error()}
	}
	out := c.App.Writer
	printLabUp(out, f, cfg, vars)
	<-c.Context.Done() // SIGINT or SIGTERM (main's signal.NotifyContext)
	fmt.Fprintln(out, "lab: stopping the traffic")
	err = labVerdict(out, f, nil)
	printInstalls(out, f)
	if cfg.Dir == "" {
		fmt.Fprintf(out, "lab: %s is removed now; keep it with --dir DIR\n", f.Dir())
	}
	return err
}

// writeLabVars writes the playbook variables the lab needs as an HCL
// --var-file.
func writeLabVars(path string, vars map[string]string) error {
	hf := hclwrite.NewEmptyFile()
	body := hf.Body()
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		body.SetAttributeValue(k, cty.StringVal(vars[k]))
	}
	src := append([]byte("# The lab farm's playbook variables, written by osrun lab up.\n"), hf.Bytes()...)
	if err := os.WriteFile(path, src, 0o644); err != nil {
		return fmt.Errorf("write the lab's variables: %w", err)
	}
	return nil
}

func printLabUp(out io.Writer, f *farm.Farm, cfg farm.Config, vars string) {
	args := fmt.Sprintf("-i %s --var-file %s", f.Inventory(), vars)
	fmt.Fprintf(out, "lab: %d front-ends in %d zones, traffic through %s\n", len(f.Frontends()), cfg.Zones, f.URL())
	fmt.Fprintf(out, "lab: inventory %s\nlab: variables %s\n", f.Inventory(), vars)
	fmt.Fprintf(out, "lab: from another shell, in the repository:\n")
	for _, cmd := range []string{
		"osrun preflight " + args + " playbooks/upgrade.hcl",
		"osrun apply --check " + args + " playbooks/upgrade.hcl",
		"osrun apply " + args + " --poll-interval 50ms playbooks/upgrade.hcl",
		"osrun status -i " + f.Inventory(),
		"osrun apply --resume " + args + " --poll-interval 50ms playbooks/upgrade.hcl   # after a crash",
	} {
		fmt.Fprintf(out, "  %s\n", cmd)
	}
	fmt.Fprintf(out, "lab: running (pid %d); press Ctrl-C or send SIGTERM to stop the traffic and print the verdict\n", os.Getpid())
}

// printInstalls says how many times an installer started on each host.
func printInstalls(out io.Writer, f *farm.Farm) {
	fmt.Fprint(out, "  installer runs:")
	for _, fe := range f.Frontends() {
		fmt.Fprintf(out, " %s=%d", fe.Name, fe.Installs())
	}
	fmt.Fprintln(out)
}
