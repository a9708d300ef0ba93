package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/approval"
	"github.com/osrun/osrun/modules/builtin"
	"github.com/osrun/osrun/report/html"
	"github.com/osrun/osrun/report/junit"
	"github.com/osrun/osrun/report/live"
	"github.com/osrun/osrun/runner"
	"github.com/osrun/osrun/runner/journal"
	"github.com/osrun/osrun/runner/preflight"
	"github.com/osrun/osrun/transports/ssh"
)

// registry is the module registry for commands that run nothing; apply
// builds its own with the approval gate.
func registry() (*modules.Registry, error) {
	return builtin.Registry(builtin.Options{})
}

// deferredGate forwards to a gate chosen after the modules were built.
type deferredGate struct{ gate approval.Gate }

func (d *deferredGate) Wait(ctx context.Context, id, instructions string) error {
	return d.gate.Wait(ctx, id, instructions)
}

// gate assembles how manual steps get approved during a run: granted up
// front with --approve, answered at the terminal, or approved from another
// shell or pipeline job with `osrun approve RUN GATE`. The first answer wins.
func gate(c *cli.Context, dir, runID string) approval.Gate {
	gates := []approval.Gate{approval.Preapproved(splitList(c.StringSlice("approve")))}
	interactive := isTerminal(c.App.Reader)
	if interactive {
		gates = append(gates, approval.NewTTY(c.App.Reader, c.App.ErrWriter))
	}
	gates = append(gates, &approval.File{
		Dir:            approval.RunDir(dir, runID),
		Out:            c.App.ErrWriter,
		Command:        "osrun approve --state-dir " + dir + " " + runID,
		NoInstructions: interactive,
	})
	return approval.Any(gates...)
}

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check a playbook and its inventory without connecting to anything",
		ArgsUsage: "PLAYBOOK",
		Flags:     []cli.Flag{inventoryFlag, varFlag, varFileFlag},
		Action: func(c *cli.Context) error {
			reg, err := registry()
			if err != nil {
				return err
			}
			l, err := newLoader(c.App.ErrWriter).playbook(c, reg)
			if err != nil {
				return err
			}
			tasks := 0
			for _, w := range l.pb.Waves {
				tasks += len(w.Tasks)
			}
			fmt.Fprintf(c.App.Writer, "%s is valid: %d waves, %d tasks, %d hosts in %d zones\n",
				c.Args().First(), len(l.pb.Waves), tasks, len(l.inv.Hosts), len(l.inv.Zones))
			return nil
		},
	}
}

func planCommand() *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "print the waves, batches, hosts and tasks a run would go through, without connecting",
		ArgsUsage: "PLAYBOOK",
		Flags:     []cli.Flag{inventoryFlag, varFlag, varFileFlag, limitFlag, &cli.BoolFlag{Name: "json", Usage: "print the plan as JSON"}},
		Action: func(c *cli.Context) error {
			reg, err := registry()
			if err != nil {
				return err
			}
			l, err := newLoader(c.App.ErrWriter).playbook(c, reg)
			if err != nil {
				return err
			}
			plan, err := runner.Plan(l.pb, l.inv, splitList(c.StringSlice("limit")))
			if err != nil {
				return &configError{msg: err.Error()}
			}
			if c.Bool("json") {
				enc := json.NewEncoder(c.App.Writer)
				enc.SetIndent("", "  ")
				return enc.Encode(plan)
			}
			printPlan(c.App.Writer, plan)
			return nil
		},
	}
}

func applyCommand() *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "run a playbook against the farm (--check rehearses it without changing anything)",
		ArgsUsage: "PLAYBOOK",
		Flags: append([]cli.Flag{
			inventoryFlag, varFlag, varFileFlag, limitFlag, stateDirFlag,
			&cli.BoolFlag{Name: "check", Aliases: []string{"C"}, Usage: "rehearse: read live state and report what would change, change nothing"},
			&cli.BoolFlag{Name: "diff", Aliases: []string{"D"}, Usage: "show what each task changes (or would change)"},
			&cli.IntFlag{Name: "forks", Aliases: []string{"f"}, Value: 5, Usage: "hosts worked on in parallel within a batch"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", Usage: "event output: text or json (JSON Lines)"},
			&cli.StringFlag{Name: "junit", Usage: "also write a JUnit XML report to `FILE`"},
			&cli.StringFlag{Name: "report", Usage: "also write a self-contained HTML run report to `FILE`"},
			&cli.Float64Flag{Name: "min-capacity", Value: preflight.DefaultMinCapacity, Usage: "preflight: the share of each zone's in-rotation front-ends the loaded set must carry"},
			&cli.BoolFlag{Name: "skip-preflight", Usage: "do not check hosts, load balancer and Service Center before the first change (warns)"},
			&cli.BoolFlag{Name: "allow-unsafe-plan", Usage: "run even if the plan verifier refuses the playbook (lab experiments only; warns loudly)"},
			&cli.BoolFlag{Name: "resume", Usage: "continue the last run of this playbook and inventory where it stopped (steps it finished are not run again; steps in doubt are re-checked first)"},
			&cli.StringFlag{Name: "resume-run", Usage: "continue run `RUN` (an id from osrun status) instead of the last one"},
			&cli.DurationFlag{Name: "on-failure-timeout", Value: runner.DefaultOnFailureTimeout, Usage: "bound on the playbook's on_failure (restore) waves"},
			&cli.StringSliceFlag{Name: "approve", Usage: "grant manual gates up front, by id or prefix (e.g. sc_frontend.disable); for rehearsed unattended runs"},
			&cli.BoolFlag{Name: "break-stale-lock", Usage: "take over the farm lock left by a osrun process on this machine that no longer exists"},
		}, labFlags...),
		Action: apply,
	}
}

var stateDirFlag = &cli.StringFlag{Name: "state-dir", Usage: "where run journals and the farm lock live (default: .osrun next to the inventory)"}

func stateDir(c *cli.Context, inventoryPath string) string {
	if d := c.String("state-dir"); d != "" {
		return d
	}
	return filepath.Join(filepath.Dir(inventoryPath), ".osrun")
}

// newRunID is sortable by time and unique even for runs started in the same second.
func newRunID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b[:])
}

func apply(c *cli.Context) error {
	if c.Bool("lab") {
		return applyLab(c) // lab.go: starts the lab farm, then applyWith
	}
	return applyWith(c, builtin.Options{PollInterval: c.Duration("poll-interval")})
}

// applyWith is apply with the modules' options (the lab shortens polls).
func applyWith(c *cli.Context, opts builtin.Options) error {
	// The approval gate lives in the state directory, which depends on the
	// inventory the playbook names: it is set once the playbook is loaded.
	lateGate := &deferredGate{}
	opts.Gate = lateGate
	reg, err := builtin.Registry(opts)
	if err != nil {
		return err
	}
	l, err := newLoader(c.App.ErrWriter).playbook(c, reg)
	if err != nil {
		return err
	}
	runID := newRunID()
	dir := stateDir(c, l.inventoryPath)
	lateGate.gate = gate(c, dir, runID)
	if c.Int("forks") < 1 {
		return &configError{msg: "--forks must be at least 1"}
	}
	var sink runner.Sink
	var view *live.View
	switch c.String("output") {
	case "text":
		if w, h, ok := terminalSize(c.App.Writer); ok {
			// On a terminal the view redraws in place; in CI logs and
			// pipes, one plain line per event.
			view = live.New(c.App.Writer, live.Options{Color: useColor(c.App.Writer), Width: w, Height: h})
			sink = view
		} else {
			sink = newTextSink(c.App.Writer, c.Bool("diff"), useColor(c.App.Writer))
		}
	case "json":
		sink = newJSONSink(c.App.Writer)
	default:
		return &configError{msg: fmt.Sprintf("--output %q: want text or json", c.String("output"))}
	}
	versions := versionLog{}
	sinks := fanout{sink, versions}
	var junitReport *junit.Collector
	if c.String("junit") != "" {
		junitReport = junit.New(c.Args().First())
		sinks = append(sinks, junitReport)
	}
	var htmlReport *html.Collector
	if c.String("report") != "" {
		htmlReport = html.New("osrun "+filepath.Base(c.Args().First()), html.WithPlaybook(l.playbookPath), html.WithInventory(l.inventoryPath))
		sinks = append(sinks, htmlReport)
	}

	check := c.Bool("check")
	var resume *journal.State
	if c.Bool("resume") || c.String("resume-run") != "" {
		if check {
			return &configError{msg: "--resume continues a real run; rehearse the whole playbook with --check instead"}
		}
		if resume, err = priorRun(c, dir, l); err != nil {
			return err
		}
		fmt.Fprintf(c.App.ErrWriter, "osrun: resuming run %s (%s)\n", resume.RunID, resume.Path)
	}
	// A rehearsal changes nothing, so it neither locks the farm nor leaves
	// a journal to resume from. A real run locks first, so that nobody
	// changes the farm between the preflight and the first step.
	if !check {
		lock, err := journal.Acquire(dir, journal.CurrentHolder(runID, l.inventoryPath), c.Bool("break-stale-lock"))
		if err != nil {
			return &configError{msg: err.Error()}
		}
		defer lock.Release()
	}
	if !c.Bool("skip-preflight") {
		if err := runPreflight(c, l, opts.ServiceCenterTransport, resume != nil, c.App.ErrWriter); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(c.App.ErrWriter, "osrun: WARNING: --skip-preflight: hosts, load balancer and Service Center were not checked before the first change")
	}
	var jrnl *journal.Journal
	if !check {
		meta := journal.Meta{RunID: runID, Playbook: l.playbookPath, Inventory: l.inventoryPath, VarsDigest: l.pb.VarsDigest()}
		if resume != nil {
			meta.ResumeOf = resume.RunID
		}
		jrnl, err = journal.Create(dir, meta)
		if err != nil {
			return &configError{msg: err.Error()}
		}
		defer jrnl.Close()
		sinks = append(sinks, jrnl)
	}

	log := warningLog(c.App.ErrWriter)
	if view != nil {
		view.Start()
		defer watchTraffic(c, view)() // lab.go: the lab's request counters
	}
	runOpts := runner.Options{
		Check:   check,
		Diff:    c.Bool("diff"),
		Forks:   c.Int("forks"),
		Limit:   splitList(c.StringSlice("limit")),
		Sink:    scrubbed{sinks},
		Dialers: dialers(c.App.ErrWriter),
		Log:     log,
		RunID:   runID,

		OnFailureTimeout: c.Duration("on-failure-timeout"),
		HardStop:         hardStop(c),
	}
	if resume != nil {
		runOpts.Resume = resume
	}
	recap, err := runner.Run(c.Context, l.pb, l.inv, runOpts)
	if view != nil {
		view.Stop() // the final frame stays on screen, the recap goes below it
	}
	if err != nil && recap == nil {
		return &configError{msg: err.Error()}
	}
	for i := range recap.Hosts {
		recap.Hosts[i].Error = secret.Scrub(recap.Hosts[i].Error)
	}
	if c.String("output") == "text" {
		printRecap(c.App.Writer, recap, versions)
		if jrnl != nil {
			fmt.Fprintf(c.App.Writer, "journal: %s\n", jrnl.Path())
		}
	}
	if junitReport != nil {
		if err := writeFile(c.String("junit"), junitReport.WriteTo); err != nil {
			return &runError{code: ExitHostFailed, msg: "write the JUnit report: " + err.Error()}
		}
	}
	if htmlReport != nil {
		htmlReport.SetRecap(recap)
		if err := writeFile(c.String("report"), htmlReport.WriteTo); err != nil {
			return &runError{code: ExitHostFailed, msg: "write the HTML report: " + err.Error()}
		}
	}
	if jrnl != nil {
		if err := jrnl.Close(); err != nil {
			return &runError{code: ExitHostFailed, msg: err.Error() + " (the run cannot be resumed from this journal)"}
		}
	}
	if recap.Outcome != runner.OutcomeSuccess && !check {
		reportFarmState(c, l, opts.ServiceCenterTransport)
	}
	return outcomeError(recap)
}

// reportFarmState reads, after a run that did not succeed, where every
// host stands now (version, rotation, deployment), so the operator knows
// the farm's state without reading the journal, and says how to continue.
// It reads live state only; it changes nothing.
func reportFarmState(c *cli.Context, l *loaded, sc http.RoundTripper) {
	w := scrubWriter{c.App.ErrWriter}
	report, err := readFarmState(c, l, sc, io.Discard)
	if err != nil {
		fmt.Fprintf(w, "osrun: could not read the farm's state after the run: %v\n", err)
		return
	}
	printFarmState(w, report, nil)
	fmt.Fprintf(w, "to continue once the cause is fixed: %s   (osrun status shows the next step)\n", resumeCommand(c))
}

// readFarmState reads every host's version, load-balancer membership and
// deployment state with preflight's reads, changing nothing. warnings
// takes the transports' warnings (a host key not checked, say).
func readFarmState(c *cli.Context, l *loaded, sc http.RoundTripper, warnings io.Writer) (*preflight.Report, error) {
	// The run's own context may be cancelled (Ctrl-C): read the state
	// under a fresh, bounded one.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Context), 2*time.Minute)
	defer cancel()
	report, err := preflight.Run(ctx, l.pb, l.inv, preflight.Options{
		Dialers:     dialers(warnings),
		Forks:       c.Int("forks"),
		Limit:       splitList(c.StringSlice("limit")),
		SCTransport: sc,
		Resuming:    true,
		Timeout:     30 * time.Second,
	})
	if report == nil {
		if err == nil {
			err = errors.New("no report")
		}
		return nil, err
	}
	return report, nil
}

// printFarmState prints the FARM STATE NOW table. Given each host's state
// by the journal (known, by host name), a last column says where the farm
// differs from the record: what a resume will find and put right.
func printFarmState(w io.Writer, report *preflight.Report, known map[string]runner.HostKnown) {
	fmt.Fprintln(w, "\nFARM STATE NOW")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := "HOST\tSPLIT\tVERSION\tLOAD BALANCER\tDEPLOYMENT"
	if known != nil {
		header += "\tAGAINST THE RECORD"
	}
	fmt.Fprintln(tw, header)
	for _, h := range report.Hosts {
		lb := "-"
		if m := h.Member; m != nil {
			lb = m.State
			if m.InRotation {
				lb += ", in rotation"
			} else {
				lb += ", out of rotation"
			}
		}
		version := dash(h.Version)
		if !h.Reachable {
			version = "unreachable"
		}
		row := fmt.Sprintf("%s\t%s\t%s\t%s\t%s", h.Name, dash(h.Split), version, lb, dash(h.Deployment))
		if known != nil {
			row += "\t" + againstRecord(h, known[h.Name])
		}
		fmt.Fprintln(tw, row)
	}
	tw.Flush()
}

// againstRecord says where a host's live state differs from its state by
// the journal: "as recorded", the differences, or "-" when the journal
// records nothing this could be compared with.
func againstRecord(h *preflight.HostReport, k runner.HostKnown) string {
	var diffs []string
	compared := false
	if m := h.Member; m != nil && m.Found && k.Rotation != "" {
		compared = true
		if live := rotationOf(m.InRotation); live != k.Rotation {
			diffs = append(diffs, fmt.Sprintf("recorded %s (%s), now %s", inWords(k.Rotation), k.RotationBy, inWords(live)))
		}
	}
	if (h.Deployment == string(modules.DeploymentEnabled) || h.Deployment == string(modules.DeploymentDisabled)) && k.Deployment != "" {
		compared = true
		if h.Deployment != string(k.Deployment) {
			diffs = append(diffs, fmt.Sprintf("recorded deployment %s (%s), now %s", k.Deployment, k.DeploymentBy, h.Deployment))
		}
	}
	if h.Version != "" && k.Version != "" {
		compared = true
		if h.Version != k.Version {
			diffs = append(diffs, fmt.Sprintf("recorded version %s (%s), now %s", k.Version, k.UpgradedBy, h.Version))
		}
	}
	switch {
	case len(diffs) > 0:
		return "DIFFERS: " + strings.Join(diffs, "; ")
	case compared:
		return "as recorded"
	default:
		return "-"
	}
}

func inWords(r modules.Rotation) string {
	if r == modules.RotationIn {
		return "in rotation"
	}
	return "out of rotation"
}

func rotationOf(in bool) modules.Rotation {
	if in {
		return modules.RotationIn
	}
	return modules.RotationOut
}

// resumeCommand is the command line that resumes this run: the same
// inventory, variables, limit, state directory and poll interval, and the
// same playbook. A run of the lab (--lab) is not resumable (its farm ends
// with it), so the lab flags are left out.
func resumeCommand(c *cli.Context) string {
	words := []string{"osrun", "apply", "--resume"}
	add := func(name string, values ...string) {
		for _, v := range values {
			words = append(words, "--"+name, shellWord(v))
		}
	}
	for _, name := range []string{"inventory", "state-dir"} {
		if c.IsSet(name) {
			add(name, c.String(name))
		}
	}
	for _, name := range []string{"var-file", "var", "limit"} {
		add(name, c.StringSlice(name)...)
	}
	if c.IsSet("poll-interval") {
		add("poll-interval", c.Duration("poll-interval").String())
	}
	for _, a := range c.Args().Slice() {
		words = append(words, shellWord(a))
	}
	return strings.Join(words, " ")
}

var plainWord = regexp.MustCompile(`^[A-Za-z0-9_./=:,@%+-]+$`)

// shellWord quotes s for a POSIX shell when it needs quoting.
func shellWord(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	return ssh.Quote(s)
}

// runPreflight proves the farm ready before the first change: every host
// reachable, versions read, installer files present, every front-end in
// its pool and healthy, Service Center answering, enough capacity left
// serving. Every problem is listed; any problem stops the run.
func runPreflight(c *cli.Context, l *loaded, sc http.RoundTripper, resuming bool, out io.Writer) error {
	report, err := preflight.Run(c.Context, l.pb, l.inv, preflight.Options{
		Dialers:     dialers(c.App.ErrWriter),
		Forks:       c.Int("forks"),
		Limit:       splitList(c.StringSlice("limit")),
		MinCapacity: c.Float64("min-capacity"),
		SCTransport: sc,
		Resuming:    resuming,
	})
	if err != nil {
		return &configError{msg: err.Error()}
	}
	if report.OK() {
		return nil
	}
	report.WriteTo(scrubWriter{out})
	return &runError{code: ExitPreflight, msg: fmt.Sprintf("preflight found %d problem(s); nothing was changed", len(report.Problems))}
}

// priorRun reads the journal a resume continues and refuses one that does
// not belong to this playbook, inventory and variables.
func priorRun(c *cli.Context, dir string, l *loaded) (*journal.State, error) {
	var path string
	var err error
	if id := c.String("resume-run"); id != "" {
		path, err = journal.ForRun(dir, id)
	} else {
		path, err = journal.Latest(dir)
	}
	if err != nil {
		return nil, &configError{msg: "nothing to resume: " + err.Error()}
	}
	st, err := journal.ReadChain(path)
	if err != nil {
		return nil, &configError{msg: err.Error()}
	}
	if err := st.Matches(l.playbookPath, l.inventoryPath); err != nil {
		return nil, &configError{msg: "cannot resume run " + st.RunID + ": " + err.Error()}
	}
	if err := st.MatchesVars(l.pb.VarsDigest()); err != nil {
		return nil, &configError{msg: "cannot resume run " + st.RunID + ": " + err.Error()}
	}
	if st.Ended && st.Outcome == runner.StatusOK {
		return nil, &configError{msg: "run " + st.RunID + " finished successfully: there is nothing to resume"}
	}
	return st, nil
}

func outcomeError(r *runner.Recap) error {
	switch r.Outcome {
	case runner.OutcomeSuccess:
		return nil
	case runner.OutcomeFailed:
		return &runError{code: ExitHostFailed, msg: "the run finished with failed hosts: " + strings.Join(failedHosts(r), ", ")}
	case runner.OutcomeBudgetExceeded:
		why := r.StopReason
		if why == "" {
			why = "the failure budget was exceeded"
		}
		return &runError{code: ExitBudget, msg: fmt.Sprintf("the run stopped early in wave %s: %s (failed: %s)", r.StoppedAt, why, strings.Join(failedHosts(r), ", "))}
	case runner.OutcomeInterrupted:
		return &runError{code: ExitInterrupted, msg: "the run was interrupted; in-flight tasks were cancelled"}
	}
	return &runError{code: ExitHostFailed, msg: fmt.Sprintf("unknown run outcome %q", r.Outcome)}
}

func failedHosts(r *runner.Recap) []string {
	var out []string
	for _, h := range r.Hosts {
		if h.Failed > 0 || h.Unreachable > 0 {
			out = append(out, h.Host)
		}
	}
	return out
}

// scrubbed masks every secret osrun has read in the free text of events
// before any sink (terminal, JSON, journal, reports) sees them: remote
// hosts and servers may echo a password back.
type scrubbed struct{ next runner.Sink }

func (s scrubbed) Emit(e runner.Event) {
	e.Msg = secret.Scrub(e.Msg)
	e.Error = secret.Scrub(e.Error)
	e.Diff = secret.Scrub(e.Diff)
	e.Output = scrubJSON(e.Output)
	s.next.Emit(e)
}

// scrubJSON masks secrets in every string of a JSON document; working on
// decoded strings catches secrets whatever JSON escaping they got.
func scrubJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return json.RawMessage(`"[output withheld: not valid JSON]"`)
	}
	out, err := json.Marshal(scrubValue(v))
	if err != nil {
		return json.RawMessage(`"[output withheld]"`)
	}
	return out
}

func scrubValue(v any) any {
	switch x := v.(type) {
	case string:
		return secret.Scrub(x)
	case []any:
		for i := range x {
			x[i] = scrubValue(x[i])
		}
	case map[string]any:
		for k, e := range x {
			x[k] = scrubValue(e)
		}
	}
	return v
}

// scrubWriter masks secrets in what is written through it. Each Write is
// scrubbed on its own: use it for writers that get whole lines at a time.
type scrubWriter struct{ w io.Writer }

// warningLog is the run's log of warnings (a live state that differs from
// the journal, an output that cannot be journalled), secrets masked.
func warningLog(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(scrubWriter{w}, &slog.HandlerOptions{Level: slog.LevelWarn, ReplaceAttr: scrubAttr}))
}

// scrubAttr masks secrets in a log line's values before the handler
// quotes them: a secret with a quote or a backslash in it would no longer
// read as itself once escaped, and scrubWriter would miss it.
func scrubAttr(_ []string, a slog.Attr) slog.Attr {
	switch v := a.Value.Resolve(); {
	case v.Kind() == slog.KindString:
		return slog.String(a.Key, secret.Scrub(v.String()))
	case v.Kind() == slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, secret.Scrub(err.Error()))
		}
		return slog.String(a.Key, secret.Scrub(fmt.Sprint(v.Any())))
	}
	return a
}

func (s scrubWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(s.w, secret.Scrub(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// fanout sends each event to every sink, in order.
type fanout []runner.Sink

func (f fanout) Emit(e runner.Event) {
	for _, s := range f {
		s.Emit(e)
	}
}

// writeFile writes through a temporary file so a report is never half-written.
func writeFile(path string, write func(io.Writer) (int64, error)) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
