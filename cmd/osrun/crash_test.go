package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osrun/osrun/lab/farm"
	"github.com/osrun/osrun/runner"
)

// crashSeed fixes the kill points (-crash-seed draws others, to explore);
// crashKills is how many SIGKILLs the upgrade survives.
var crashSeed = flag.Uint64("crash-seed", 7, "TestCrashResume: the seed of the kill points")

const crashKills = 20

// The crash-and-resume proof: osrun apply of playbooks/upgrade.hcl
// on the lab farm, under traffic, is killed with SIGKILL at crashKills
// points spread over the whole upgrade and resumed each time (--resume
// --break-stale-lock), then resumed to the end. The farm must end as a
// clean run leaves it (every front-end at the new version, serving, in
// rotation, deployment enabled, Deployment Service running), no installer
// may have started twice on a host, and not one request may have failed.
//
// Kill points are counted, not timed. A clean run journals exactly two
// step events (host_task_start, host_task_end) per host and task of the
// plan; the upgrade's progress is how many of those distinct events the
// runs so far journalled themselves (a resume's replays of finished steps
// do not count, nor does the second start of a step in doubt). The kill
// points are crashKills distinct progress counts drawn with a fixed seed
// over the whole upgrade; the test watches each run's journal and kills
// the process as soon as the progress reaches the next point (at least one
// new event per run), so the kills fall before, inside and after every
// wave's steps, the same way on every machine. A kill point that falls on
// an installer task's start waits until that installer runs on the host,
// so those kills land mid-install: the hardest case for "never twice".
//
// The farm runs in the test process; only the osrun processes are killed.
//
// It found the installer's state read pairing a version read before an
// earlier run's installer ended with "no installer running" read after
// (a second installer started); the state script now reads the running
// record first. When a host installs twice the failure prints the host's
// trace: every session, and each installer start with its process ids.
func TestCrashResume(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash-and-resume proof runs about twenty osrun processes")
	}
	bin, f, state, args := labUpgrade(t, farm.Config{Zones: 2, FrontendsPerZone: 3, MaxDuration: 5 * time.Minute, MaxRequests: 1 << 30})

	steps := planSteps(t, bin, args)
	targets := killTargets(steps, rand.New(rand.NewPCG(*crashSeed, *crashSeed)))
	t.Logf("seed %d, %d steps; kill points (progress in step events): %v", *crashSeed, steps, targets)

	begin := time.Now()
	done := map[string]bool{} // the distinct step events journalled so far
	kills := 0
	previous := ""
	for run := 0; run < len(targets); run++ {
		applyArgs := []string{"apply"}
		if run > 0 {
			applyArgs = append(applyArgs, "--resume", "--break-stale-lock")
		}
		// At least one step event of its own per run, so each kill is a
		// new point.
		want := max(targets[run], len(done)+1)
		last, killed, out := applyUntil(t, bin, append(applyArgs, args...), state, done, want, installerStarted(f))
		if !killed {
			t.Fatalf("run %d ended on its own at progress %d, before kill point %d\n%s", run+1, len(done), want, out)
		}
		kills++
		var running []string
		for _, fe := range f.Frontends() {
			if fe.App.State().Down {
				running = append(running, fe.Name)
			}
		}
		if len(running) > 0 {
			last += fmt.Sprintf("; application down (installing) on %s", strings.Join(running, ", "))
		}
		t.Logf("%s kill %2d at progress %3d/%d, after %s", time.Now().Format("15:04:05.000000"), kills, len(done), 2*steps, last)
		for _, fe := range f.Frontends() {
			if n := fe.Installs(); n > 1 {
				t.Fatalf("after kill %d: the installer started %d times on %s\nthe host's trace:\n%s\nthe run before:\n%s\nthis run:\n%s", kills, n, fe.Name, fe.Trace(), previous, out)
			}
		}
		previous = out
	}
	final := exec.Command(bin, append([]string{"apply", "--resume", "--break-stale-lock"}, args...)...)
	final.Env = append(os.Environ(), "NO_COLOR=1")
	out, err := final.CombinedOutput()
	// The last kill can land after the run recorded its successful end:
	// then there is nothing left to resume, and osrun says so.
	if err != nil && !bytes.Contains(out, []byte("finished successfully: there is nothing to resume")) {
		t.Fatalf("the last resume: %v\n%s", err, out)
	}
	t.Logf("%d kills, progress %d/%d before the last resume, %s in all", kills, len(done), 2*steps, time.Since(begin).Round(time.Millisecond))

	assertUpgradedOnce(t, f)
	if t.Failed() {
		t.Logf("the last resume:\n%s", out)
	}
}

// planSteps counts the steps (host × task) of the plan apply follows.
func planSteps(t *testing.T, bin string, args []string) int {
	t.Helper()
	out, err := exec.Command(bin, append([]string{"plan", "--json"}, slices.DeleteFunc(slices.Clone(args), isApplyOnly(args))...)...).Output()
	if err != nil {
		t.Fatalf("osrun plan: %v", err)
	}
	var plan runner.PlanResult
	if err := json.Unmarshal(out, &plan); err != nil {
		t.Fatal(err)
	}
	steps := 0
	for _, w := range plan.Waves {
		steps += len(w.Hosts) * len(w.Tasks)
	}
	return steps
}

// killTargets draws crashKills distinct progress counts from the upgrade's
// 2×steps step events, short of the last wave's burst of events, which a
// kill could not reliably beat to the run's end.
func killTargets(steps int, rng *rand.Rand) []int {
	span := max(2*steps-10, crashKills)
	picked := map[int]bool{}
	for len(picked) < crashKills {
		picked[1+rng.IntN(span)] = true
	}
	targets := make([]int, 0, crashKills)
	for k := range picked {
		targets = append(targets, k)
	}
	slices.Sort(targets)
	return targets
}

// isApplyOnly drops apply's flags (and their values) that plan does not take.
func isApplyOnly(args []string) func(string) bool {
	drop := map[int]bool{}
	for i, a := range args {
		if a == "--state-dir" || a == "--poll-interval" {
			drop[i], drop[i+1] = true, true
		}
	}
	i := -1
	return func(string) bool { i++; return drop[i] }
}

// installerStarted holds a kill that falls just after an installer task
// started on a host until the installer itself runs there, so that the
// kill lands while the host is being upgraded: the resume must not start
// a second installer.
func installerStarted(f *farm.Farm) func(e runner.Event) bool {
	return func(e runner.Event) bool {
		fe := f.Frontend(e.Host)
		return e.Kind != runner.HostTaskStart || e.Module != "installer" || fe == nil || fe.Installs() > 0
	}
}

// applyUntil runs osrun with args and SIGKILLs it as soon as done, the
// distinct step events journalled (it adds this run's own), holds want,
// and ready says yes to the last step event read. It returns that event,
// whether it killed the process, and the process's output.
func applyUntil(t *testing.T, bin string, args []string, state string, done map[string]bool, want int, ready func(runner.Event) bool) (last string, killed bool, out string) {
	t.Helper()
	var lastEvent runner.Event
	out, err, stopped := watchApply(t, bin, args, state, func(cmd *exec.Cmd, e runner.Event) bool {
		if (e.Kind == runner.HostTaskStart || e.Kind == runner.HostTaskEnd) && e.ResumedFrom == "" && !e.OnFailure {
			lastEvent = e
			done[string(e.Kind)+" "+e.Wave+"/"+e.Task+"@"+e.Host] = true
		}
		if len(done) < want || !ready(lastEvent) {
			return false
		}
		if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Fatal(err)
		}
		return true
	})
	if !stopped && err != nil {
		t.Fatalf("osrun %s: %v at progress %d\n%s", strings.Join(args, " "), err, len(done), out)
	}
	var ee *exec.ExitError
	return describe(lastEvent), stopped && errors.As(err, &ee) && !ee.Exited(), out
}

// watchApply runs osrun with args and calls visit with each event the
// run's journal (the new one under state/runs) records, in order, until
// visit says it stopped the process or the process exits by itself. It
// returns the process's output and exit error, and whether visit stopped
// it. A run still going after 2 minutes is killed and fails the test.
func watchApply(t *testing.T, bin string, args []string, state string, visit func(cmd *exec.Cmd, e runner.Event) (stopped bool)) (out string, err error, stopped bool) {
	t.Helper()
	runs := filepath.Join(state, "runs")
	before, _ := filepath.Glob(filepath.Join(runs, "*.jsonl"))
	var buf bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var journal *os.File
	defer func() {
		if journal != nil {
			journal.Close()
		}
	}()
	var rd *bufio.Reader
	var partial []byte
	// read hands visit the complete lines written so far.
	read := func() bool {
		for range 100000 {
			line, err := rd.ReadBytes('\n')
			partial = append(partial, line...)
			if err == io.EOF {
				return false
			}
			if err != nil {
				t.Fatal(err)
			}
			var e runner.Event
			if err := json.Unmarshal(partial, &e); err != nil {
				t.Fatalf("journal line %q: %v", partial, err)
			}
			partial = nil
			if visit(cmd, e) {
				return true
			}
		}
		t.Fatal("the journal has more than 100000 lines")
		return false
	}
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(2 * time.Minute)
	for {
		if journal == nil {
			if journal = newJournal(t, runs, before); journal != nil {
				rd = bufio.NewReader(journal)
			}
		}
		if rd != nil && read() {
			// Wait first: the output is written until the process is reaped.
			err := <-exited
			return buf.String(), err, true
		}
		select {
		case err := <-exited:
			if rd != nil && read() { // the events written before it exited
				return buf.String(), err, true
			}
			return buf.String(), err, false
		case <-deadline:
			cmd.Process.Kill()
			<-exited
			t.Fatalf("osrun %s: still running after 2 minutes\n%s", strings.Join(args, " "), buf.String())
		case <-tick.C:
		}
	}
}

// newJournal opens the run's journal once it exists: the one file under
// runs that was not there before.
func newJournal(t *testing.T, runs string, before []string) *os.File {
	t.Helper()
	now, _ := filepath.Glob(filepath.Join(runs, "*.jsonl"))
	for _, p := range now {
		if slices.Contains(before, p) {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	return nil
}

func describe(e runner.Event) string {
	s := fmt.Sprintf("%s %s/%s@%s", e.Kind, e.Wave, e.Task, e.Host)
	if e.Status != "" {
		s += " (" + string(e.Status) + ")"
	}
	return s
}

// assertUpgradedOnce checks the farm as a clean upgrade leaves it (every
// front-end at the target version, serving, in rotation, deployment
// enabled, Deployment Service running), that no request failed, and that
// each front-end's installer started exactly once.
func assertUpgradedOnce(t *testing.T, f *farm.Farm) {
	t.Helper()
	v := f.Verdict()
	if !v.OK() {
		t.Errorf("the farm saw downtime:\n%s", v)
	}
	if ok, bad := v.Upgraded(f.Vars()["target_version"]); !ok {
		t.Errorf("not as a clean run leaves them: %v\n%s", bad, v)
	}
	for _, fe := range f.Frontends() {
		if n := fe.Installs(); n != 1 {
			t.Errorf("%s: the installer started %d times, want once\n%s", fe.Name, n, fe.Trace())
		}
	}
}

// labUpgrade starts a lab farm and returns what runs playbooks/upgrade.hcl
// against it: the osrun binary (the test binary, as TestMain registers
// it), the farm, a state directory and apply's arguments after the command.
func labUpgrade(t *testing.T, cfg farm.Config) (bin string, f *farm.Farm, state string, args []string) {
	t.Helper()
	bin, err := exec.LookPath("osrun")
	if err != nil {
		t.Fatal(err)
	}
	f, vars := startLabFarm(t, cfg)
	playbook, err := filepath.Abs("../../playbooks/upgrade.hcl")
	if err != nil {
		t.Fatal(err)
	}
	state = t.TempDir()
	return bin, f, state, []string{"-i", f.Inventory(), "--var-file", vars, "--state-dir", state, "--poll-interval", labPoll.String(), playbook}
}

// startLabFarm starts a lab farm for the test and writes the playbook's
// variables for it; it returns the farm and the variables file.
func startLabFarm(t *testing.T, cfg farm.Config) (*farm.Farm, string) {
	t.Helper()
	f, err := farm.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	vars := filepath.Join(f.Dir(), labVarsFile)
	if err := writeLabVars(vars, f.Vars()); err != nil {
		t.Fatal(err)
	}
	return f, vars
}

// A run interrupted (SIGINT) while the loaded front-ends leave rotation
// starts nothing new and runs its on_failure wave, which puts back the
// ones it took out; it is killed (SIGKILL) during that restore. The
// resume must finish the upgrade from whatever the half-done restore left:
// the journal's finished steps are no longer trusted blindly, each loaded
// front-end is out of rotation again before its installer runs, every
// installer runs once, and no request fails.
func TestInterruptRestoreKillResume(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the lab upgrade")
	}
	bin, f, state, args := labUpgrade(t, farm.Config{Zones: 1, FrontendsPerZone: 4, MaxDuration: 3 * time.Minute, MaxRequests: 1 << 30})

	interrupted := false
	var loaded []string   // the hosts the run began to take out of rotation
	var restored []string // the hosts the restore put back in rotation
	out, err, killed := watchApply(t, bin, append([]string{"apply"}, args...), state, func(cmd *exec.Cmd, e runner.Event) bool {
		if e.Kind == runner.HostTaskStart && e.Wave == "loaded_out_of_rotation" {
			loaded = append(loaded, e.Host)
		}
		switch {
		case !interrupted && e.Kind == runner.HostTaskEnd && e.Wave == "loaded_out_of_rotation" && e.Status == runner.StatusChanged:
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			interrupted = true
		case interrupted && e.OnFailure && e.Kind == runner.HostTaskEnd && e.Status == runner.StatusChanged:
			restored = append(restored, e.Host)
		case interrupted && e.OnFailure && e.Kind == runner.TaskEnd:
			// The restore is done on every host; the run has yet to read
			// the farm back and record its end.
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			return true
		}
		return false
	})
	if !killed {
		t.Fatalf("osrun ended before it was killed during its restore (interrupted: %v): %v\n%s", interrupted, err, out)
	}
	if !strings.Contains(out, "ON FAILURE") {
		t.Fatalf("the interrupted run did not start its on_failure wave:\n%s", out)
	}
	// The restore leaves no front-end out of rotation that the run took
	// out and did not upgrade. (When the interrupt came late, installers
	// that had started finished, and those front-ends stay out.)
	for _, h := range loaded {
		if fe := f.Frontend(h); fe.Installs() == 0 && !f.InRotation(h) {
			t.Errorf("%s: taken out of rotation, never upgraded, and not put back by the restore\n%s", h, out)
		}
	}

	resume := exec.Command(bin, append([]string{"apply", "--resume", "--break-stale-lock"}, args...)...)
	resume.Env = append(os.Environ(), "NO_COLOR=1")
	resumed, err := resume.CombinedOutput()
	if err != nil {
		t.Fatalf("the resume: %v\nthe interrupted run:\n%s\nthe resume:\n%s", err, out, resumed)
	}
	// What the restore put back in rotation, the resume takes out again
	// before the installer runs there.
	// (A host whose drain the interrupt cut short is drained anew; one
	// the record says was drained is found back in rotation.)
	t.Logf("the restore put back %v", restored)
	wave := resumed
	if i := bytes.Index(wave, []byte("loaded_out_of_rotation")); i >= 0 {
		wave = wave[i:]
	}
	if i := bytes.Index(wave, []byte("upgrade_loaded")); i >= 0 {
		wave = wave[:i]
	}
	for _, h := range restored {
		if !regexp.MustCompile(`(?m)^ +` + h + ` +changed .*` + h + ` enabled -> disabled`).Match(wave) {
			t.Errorf("the resume did not take %s out of rotation again before upgrading it", h)
		}
	}
	assertUpgradedOnce(t, f)
	if t.Failed() || testing.Verbose() {
		t.Logf("the interrupted run:\n%s\nthe resume:\n%s", out, resumed)
	}
}
