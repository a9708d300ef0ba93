package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/osrun/osrun/runner"
	"github.com/osrun/osrun/runner/journal"
	"github.com/osrun/osrun/runner/preflight"
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
			&cli.BoolFlag{Name: "json", Usage: "print the status as one JSON object, for pipelines"},
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
			s, err := gatherStatus(c, invPath)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				enc := json.NewEncoder(scrubWriter{c.App.Writer})
				enc.SetIndent("", "  ")
				if err := enc.Encode(s.toJSON(c)); err != nil {
					return &runError{code: ExitHostFailed, msg: "write the status: " + err.Error()}
				}
			} else {
				s.print(c)
			}
			if c.Bool("live") && s.withPlaybook && s.loaded == nil {
				return &configError{msg: "status --live: the playbook does not load now; osrun validate says why"}
			}
			if s.liveErr != nil {
				return &runError{code: ExitHostFailed, msg: "status --live: could not read the farm's state: " + s.liveErr.Error()}
			}
			return nil
		},
	}
}

// status is what `osrun status` found, gathered before it is printed as
// text or JSON.
type status struct {
	dir     string
	held    *journal.LockedError // nil: the lock is free
	lockErr error
	run     *journal.State // nil: no run recorded under dir
	// With the playbook: loaded is nil when it does not load now.
	withPlaybook bool
	loaded       *loaded
	known        []runner.HostKnown
	// next is set when the run did not finish: nil step means nothing is
	// left, nextErr that it could not be found.
	wantNext bool
	next     *runner.NextStep
	nextErr  error
	// With --live.
	live    *preflight.Report
	liveErr error
}

// gatherStatus reads the lock, the last run's journal and, given the
// playbook, each host's known state and the next step; with --live, the
// farm itself, whether or not a run is recorded.
func gatherStatus(c *cli.Context, invPath string) (*status, error) {
	s := &status{dir: stateDir(c, invPath)}
	s.held, s.lockErr = journal.Inspect(s.dir, invPath)
	path, err := journal.Latest(s.dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, &configError{msg: err.Error()}
	default:
		if s.run, err = journal.Read(path); err != nil {
			return nil, &configError{msg: err.Error()}
		}
	}
	if c.NArg() != 1 || s.run == nil && !c.Bool("live") {
		return s, nil
	}
	s.withPlaybook = true
	reg, err := registry()
	if err != nil {
		return nil, &configError{msg: err.Error()}
	}
	if s.loaded, err = newLoader(io.Discard).playbook(c, reg); err != nil {
		s.loaded = nil
		return s, nil
	}
	if s.run != nil {
		s.readRecord(c)
	}
	if c.Bool("live") {
		s.live, s.liveErr = readFarmState(c, s.loaded, nil, scrubWriter{c.App.ErrWriter})
	}
	return s, nil
}

// readRecord finds each host's known state and, when the run did not
// finish, the next step, from the run's journal and those it resumed.
func (s *status) readRecord(c *cli.Context) {
	s.wantNext = !(s.run.Ended && s.run.Outcome == runner.StatusOK)
	chain, err := journal.ReadChain(s.run.Path)
	if err != nil {
		// The run's own journal read; one it resumed did not.
		s.nextErr = err
		return
	}
	limit := splitList(c.StringSlice("limit"))
	if known, err := runner.KnownState(s.loaded.pb, s.loaded.inv, limit, chain); err == nil {
		s.known = known
	}
	if s.wantNext {
		s.next, s.nextErr = runner.Next(s.loaded.pb, s.loaded.inv, limit, chain)
	}
}

func (s *status) knownByHost() map[string]runner.HostKnown {
	out := map[string]runner.HostKnown{}
	for _, k := range s.known {
		out[k.Host] = k
	}
	return out
}

// failed lists the run's steps that failed, in the order they started.
func (s *status) failed() []journal.Step {
	var out []journal.Step
	for _, k := range s.run.Order {
		switch s.run.Steps[k].Status {
		case runner.StatusFailed, runner.StatusUnreachable, runner.StatusInterrupted:
			out = append(out, k)
		}
	}
	return out
}

func (s *status) print(c *cli.Context) {
	w := c.App.Writer
	switch {
	case s.lockErr != nil:
		fmt.Fprintf(w, "lock: unreadable: %v\n", s.lockErr)
	case s.held != nil:
		state := "held"
		if s.held.Stale {
			state = "STALE (its process is gone; apply --break-stale-lock takes it over)"
		}
		fmt.Fprintf(w, "lock: %s by %s\n", state, s.held.Holder)
	default:
		fmt.Fprintln(w, "lock: free")
	}
	if s.run == nil {
		fmt.Fprintf(w, "no run recorded under %s\n", s.dir)
	} else {
		s.printRecord(c)
	}
	if s.live != nil {
		printFarmState(scrubWriter{w}, s.live, s.knownByHost())
	}
}

// printRecord prints the run's record and, given the playbook, each
// host's known state and the next step.
func (s *status) printRecord(c *cli.Context) {
	w := c.App.Writer
	s.printRun(w)
	if !s.withPlaybook {
		return
	}
	if s.loaded == nil {
		fmt.Fprintln(w, "  hosts' state and next step: unknown (the playbook does not load now; osrun validate says why)")
		return
	}
	if s.known != nil {
		printKnown(w, s.known)
	}
	if s.wantNext {
		switch {
		case s.nextErr != nil:
			fmt.Fprintf(w, "  next step: unknown: %v\n", s.nextErr)
		case s.next == nil:
			fmt.Fprintln(w, "  next step: none; every step of the playbook is recorded as done")
		default:
			fmt.Fprintf(w, "  next step: wave %s, batch %d, task %s on %s\n", s.next.Wave, s.next.Batch, s.next.Task, strings.Join(s.next.Hosts, ", "))
			if len(s.next.InDoubt) > 0 {
				fmt.Fprintf(w, "    re-checked first (started, never ended): %s\n", strings.Join(s.next.InDoubt, ", "))
			}
			fmt.Fprintln(w, "    the live state of the last finished rotation, deployment and upgrade step on each host is re-read before it is trusted")
			fmt.Fprintf(w, "  to continue: %s\n", resumeCommand(c))
		}
	}
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
		version := k.Version
		if version == "" && k.UpgradedBy != "" {
			version = "upgraded" // by a step that reported no version
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\n", k.Host, dash(string(k.Rotation)), dash(string(k.Deployment)), dash(version), strings.Join(notes, "; "))
	}
	tw.Flush()
}

func (s *status) printRun(w io.Writer) {
	st := s.run
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
	for _, k := range s.failed() {
		step := st.Steps[k]
		fmt.Fprintf(w, "  %s: %s on %s in wave %s: %s\n", step.Status, k.Task, k.Host, k.Wave, step.Error)
	}
	for _, k := range st.InDoubt() {
		fmt.Fprintf(w, "  in doubt: %s on %s in wave %s started and never reported an end; check its live state before anything else\n", k.Task, k.Host, k.Wave)
	}
	fmt.Fprintf(w, "  steps done: %d of %d started\n", s.stepsDone(), len(st.Steps))
}

func (s *status) stepsDone() int {
	done := 0
	for _, step := range s.run.Steps {
		if step.Done() {
			done++
		}
	}
	return done
}

// statusJSON is `osrun status --json`: the same facts as the text, for a
// pipeline to read. Absent parts were not asked for or not found.
type statusJSON struct {
	Lock lockJSON `json:"lock"`
	// Run is the last run recorded under StateDir; nil when there is none.
	Run      *runJSON `json:"run"`
	StateDir string   `json:"state_dir"`
	// Hosts, Next and ResumeCommand need the playbook; PlaybookLoads says
	// whether it loads now.
	PlaybookLoads *bool              `json:"playbook_loads,omitempty"`
	Hosts         []runner.HostKnown `json:"hosts,omitempty"`
	Next          *runner.NextStep   `json:"next,omitempty"`
	NextError     string             `json:"next_error,omitempty"`
	ResumeCommand string             `json:"resume_command,omitempty"`
	// Live is every host's state now, with --live.
	Live []liveHostJSON `json:"live,omitempty"`
}

type lockJSON struct {
	State  string          `json:"state"` // free, held, stale or unreadable
	Holder *journal.Holder `json:"holder,omitempty"`
	Error  string          `json:"error,omitempty"`
}

type runJSON struct {
	ID           string     `json:"id"`
	Playbook     string     `json:"playbook"`
	Inventory    string     `json:"inventory"`
	Journal      string     `json:"journal"`
	Ended        bool       `json:"ended"`
	Outcome      string     `json:"outcome,omitempty"`
	LastWave     string     `json:"last_wave,omitempty"`
	Truncated    bool       `json:"truncated,omitempty"`
	Restored     bool       `json:"on_failure_ran,omitempty"`
	Failed       []stepJSON `json:"failed"`
	InDoubt      []stepJSON `json:"in_doubt"`
	StepsDone    int        `json:"steps_done"`
	StepsStarted int        `json:"steps_started"`
}

type stepJSON struct {
	Wave   string `json:"wave"`
	Task   string `json:"task"`
	Host   string `json:"host"`
	Status string `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

type liveHostJSON struct {
	*preflight.HostReport
	// AgainstRecord is printFarmState's last column.
	AgainstRecord string `json:"against_record"`
}

func (s *status) toJSON(c *cli.Context) statusJSON {
	out := statusJSON{StateDir: s.dir, Lock: lockJSON{State: "free"}}
	switch {
	case s.lockErr != nil:
		out.Lock = lockJSON{State: "unreadable", Error: s.lockErr.Error()}
	case s.held != nil:
		out.Lock = lockJSON{State: "held", Holder: &s.held.Holder}
		if s.held.Stale {
			out.Lock.State = "stale"
		}
	}
	if s.run != nil {
		out.Run = s.runJSON()
	}
	if s.withPlaybook {
		loads := s.loaded != nil
		out.PlaybookLoads = &loads
	}
	out.Hosts, out.Next = s.known, s.next
	if s.nextErr != nil {
		out.NextError = s.nextErr.Error()
	}
	if s.next != nil {
		out.ResumeCommand = resumeCommand(c)
	}
	if s.live != nil {
		known := s.knownByHost()
		for _, h := range s.live.Hosts {
			out.Live = append(out.Live, liveHostJSON{HostReport: h, AgainstRecord: againstRecord(h, known[h.Name])})
		}
	}
	return out
}

func (s *status) runJSON() *runJSON {
	st := s.run
	r := &runJSON{ID: st.RunID, Playbook: st.Playbook, Inventory: st.Inventory, Journal: st.Path,
		Ended: st.Ended, Outcome: string(st.Outcome), LastWave: st.LastWave, Truncated: st.Truncated, Restored: st.Restored,
		Failed: []stepJSON{}, InDoubt: []stepJSON{}, StepsDone: s.stepsDone(), StepsStarted: len(st.Steps)}
	for _, k := range s.failed() {
		step := st.Steps[k]
		r.Failed = append(r.Failed, stepJSON{Wave: k.Wave, Task: k.Task, Host: k.Host, Status: string(step.Status), Error: step.Error})
	}
	for _, k := range st.InDoubt() {
		r.InDoubt = append(r.InDoubt, stepJSON{Wave: k.Wave, Task: k.Task, Host: k.Host})
	}
	return r
}
