package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/osrun/osrun/runner"
	"github.com/osrun/osrun/runner/journal"
)

// statusCommand reports what the last run recorded: how far it got, what
// failed, which steps are in doubt, and who holds the farm lock.
func statusCommand() *cli.Command {
	return &cli.Command{
		Name:      "status",
		Usage:     "show the last run's recorded state: how far it got, failures, steps in doubt, the farm lock",
		ArgsUsage: "[PLAYBOOK]",
		Flags: []cli.Flag{inventoryFlag, varFlag, varFileFlag, limitFlag, stateDirFlag,
			&cli.BoolFlag{Name: "live", Usage: "also read every host's state now (version, load balancer, deployment) and say where it differs from the record; reads only, changes nothing (needs PLAYBOOK)"},
		},
		Action: func(c *cli.Context) error {
			if c.Bool("live") && c.NArg() != 1 {
				return &configError{msg: "status --live needs the PLAYBOOK, whose inventory says how to reach the hosts"}
			}
			invPath := c.String("inventory")
			if invPath == "" && c.NArg() == 1 {
				l := newLoader(c.App.ErrWriter)
				p, diags := playbookParse(l, c.Args().First())
				if err := l.report(diags); err != nil {
					return err
				}
				invPath = p
			}
			if invPath == "" && c.String("state-dir") == "" {
				return &configError{msg: "give a playbook, -i INVENTORY or --state-dir"}
			}
			invPath = absPath(invPath)
			dir := stateDir(c, invPath)
			if held, err := journal.Inspect(dir, invPath); err != nil {
				fmt.Fprintf(c.App.Writer, "lock: unreadable: %v\n", err)
			} else if held != nil {
				state := "held"
				if held.Stale {
					state = "STALE (its process is gone; apply --break-stale-lock takes it over)"
				}
				fmt.Fprintf(c.App.Writer, "lock: %s by %s\n", state, held.Holder)
			} else {
				fmt.Fprintln(c.App.Writer, "lock: free")
			}
			path, err := journal.Latest(dir)
			if errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(c.App.Writer, "no run recorded under %s\n", dir)
				return nil
			}
			if err != nil {
				return &configError{msg: err.Error()}
			}
			st, err := journal.Read(path)
			if err != nil {
				return &configError{msg: err.Error()}
			}
			printStatus(c.App.Writer, st)
			if c.NArg() != 1 {
				return nil
			}
			l, known := printRecordedState(c, st, !(st.Ended && st.Outcome == runner.StatusOK))
			if !c.Bool("live") {
				return nil
			}
			if l == nil {
				return &configError{msg: "status --live: the playbook does not load now; osrun validate says why"}
			}
			report, err := readFarmState(c, l, nil, scrubWriter{c.App.ErrWriter})
			if err != nil {
				return &runError{code: ExitHostFailed, msg: "status --live: could not read the farm's state: " + err.Error()}
			}
			printFarmState(scrubWriter{c.App.Writer}, report, known)
			return nil
		},
	}
}

// printRecordedState prints each host's last known state by the record and, when
// the run did not finish (next), what `apply --resume` would do first,
// when the playbook and its inventory still load. It returns the loaded
// playbook (nil when it does not load) and the known state by host.
func printRecordedState(c *cli.Context, st *journal.State, next bool) (*loaded, map[string]runner.HostKnown) {
	reg, err := registry()
	if err != nil {
		return nil, nil
	}
	l, err := newLoader(io.Discard).playbook(c, reg)
	if err != nil {
		fmt.Fprintln(c.App.Writer, "  hosts' state and next step: unknown (the playbook does not load now; osrun validate says why)")
		return nil, nil
	}
	byHost := map[string]runner.HostKnown{}
	chain, err := journal.ReadChain(st.Path)
	if err != nil {
		return l, byHost
	}
	limit := splitList(c.StringSlice("limit"))
	if known, err := runner.KnownState(l.pb, l.inv, limit, chain); err == nil {
		printKnown(c.App.Writer, known)
		for _, k := range known {
			byHost[k.Host] = k
		}
	}
	if !next {
		return l, byHost
	}
	step, err := runner.Next(l.pb, l.inv, limit, chain)
	switch {
	case err != nil:
		fmt.Fprintf(c.App.Writer, "  next step: unknown: %v\n", err)
	case step == nil:
		fmt.Fprintln(c.App.Writer, "  next step: none; every step of the playbook is recorded as done")
	default:
		fmt.Fprintf(c.App.Writer, "  next step: wave %s, batch %d, task %s on %s\n", step.Wave, step.Batch, step.Task, strings.Join(step.Hosts, ", "))
		if len(step.InDoubt) > 0 {
			fmt.Fprintf(c.App.Writer, "    re-checked first (started, never ended): %s\n", strings.Join(step.InDoubt, ", "))
		}
		fmt.Fprintln(c.App.Writer, "    the live state of the last finished rotation, deployment and upgrade step on each host is re-read before it is trusted")
		fmt.Fprintf(c.App.Writer, "  to continue: %s\n", resumeCommand(c))
	}
	return l, byHost
}

// printKnown prints each host's last known state by the record.
func printKnown(w io.Writer, known []runner.HostKnown) {
	fmt.Fprintln(w, "  last known state, by the steps recorded as finished (apply --resume re-reads the live state it relies on):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "    HOST\tROTATION\tDEPLOYMENT\tVERSION\tNOTE")
	for _, k := range known {
		var notes []string
		if len(k.Failed) > 0 {
			notes = append(notes, "failed: "+strings.Join(k.Failed, ", "))
		}
		if len(k.InDoubt) > 0 {
			notes = append(notes, "in doubt: "+strings.Join(k.InDoubt, ", "))
		}
		if k.Undone {
			notes = append(notes, "on_failure ran since")
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\n", k.Host, dash(string(k.Rotation)), dash(string(k.Deployment)), dash(k.Version), strings.Join(notes, "; "))
	}
	tw.Flush()
}

func printStatus(w io.Writer, st *journal.State) {
	fmt.Fprintf(w, "last run: %s\n  playbook:  %s\n  inventory: %s\n  journal:   %s\n", st.RunID, st.Playbook, st.Inventory, st.Path)
	switch {
	case st.Ended:
		fmt.Fprintf(w, "  ended: %s\n", st.Outcome)
	default:
		fmt.Fprintf(w, "  ended: NO — the run stopped without finishing (crash, kill or power loss) during wave %q\n", st.LastWave)
	}
	if st.Truncated {
		fmt.Fprintln(w, "  the journal's last line was cut short by the crash; the step it recorded is treated as in doubt")
	}
	var failed []journal.Step
	for _, k := range st.Order {
		s := st.Steps[k]
		if s.Status == runner.StatusFailed || s.Status == runner.StatusUnreachable || s.Status == runner.StatusInterrupted {
			failed = append(failed, k)
		}
	}
	for _, k := range failed {
		s := st.Steps[k]
		fmt.Fprintf(w, "  %s: %s on %s in wave %s: %s\n", s.Status, k.Task, k.Host, k.Wave, s.Error)
	}
	for _, k := range st.InDoubt() {
		fmt.Fprintf(w, "  in doubt: %s on %s in wave %s started and never reported an end; check its live state before anything else\n", k.Task, k.Host, k.Wave)
	}
	done := 0
	for _, s := range st.Steps {
		if s.Done() {
			done++
		}
	}
	fmt.Fprintf(w, "  steps done: %d of %d started\n", done, len(st.Steps))
}
