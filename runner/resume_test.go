package runner_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/osrun/osrun/runner"
	"github.com/osrun/osrun/runner/journal"
)

// crashPlaybook has tracked (idempotent, counted) tasks whose arguments
// read earlier tasks' outputs, across tasks and waves, so a resume that
// lost an output would leave a different world behind.
const crashPlaybook = `
wave "out" {
  hosts  = group.web
  serial = 2
  task "probe" "drain" {
    name   = "drain"
    track  = true
    output = { token = "t-${host.name}" }
  }
  task "probe" "note" {
    name   = "note"
    track  = true
    when   = host.name != "fe02"
    output = { from = task.probe.drain.output.token }
  }
}
wave "upgrade" {
  hosts  = [host.ctl, group.web]
  serial = [1, "50%"]
  task "probe" "install" {
    name    = "install"
    on      = "host"
    on_conn = true
    track   = true
    output  = { from = try(task.probe.drain.token, "none"), v = "11.31" }
  }
  task "probe" "verify" {
    name   = "verify"
    track  = true
    output = { seen = task.probe.install.output.v }
  }
}
wave "back" {
  hosts = group.web
  task "probe" "enable" {
    name   = "enable"
    track  = true
    output = { chain = "${task.probe.install.from}/${task.probe.note.skipped}" }
  }
}
`

// TestResumeAfterCrash runs the playbook once with a journal, then, for
// seeded random crash points, cuts the journal right after a step started
// (sometimes mid-line too), builds the world such a crash leaves (every
// step that ended did its work; a step in doubt did or did not, by coin),
// and resumes. Half the seeds crash the resumed run as well and resume
// that, through the chain of journals. Every time: the world ends as an
// uninterrupted run leaves it, every change is applied exactly once over
// all the runs, steps done before are not even looked at, and steps in
// doubt are checked before anything else.
func TestResumeAfterCrash(t *testing.T) {
	f := runner.Load(t, crashPlaybook)
	pbPath, invPath := f.Paths()
	ref := t.TempDir()
	full := runJournalled(t, f, ref, "ref", "", nil)
	if full.recap.Outcome != runner.OutcomeSuccess {
		t.Fatalf("reference run: %s", full.recap.Outcome)
	}
	want := f.World()
	if len(want) != 4+3+5+5+4 {
		t.Fatalf("reference world has %d changes: %v", len(want), want)
	}

	var cov coverage
	for seed := range uint64(24) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			dir := t.TempDir()
			// Run A as the reference did, crashing it.
			world := crash(t, rng, copyJournal(t, full.path, dir, "ref"), map[string]string{}, want)
			prev := "ref"
			for round := range 1 + int(seed%2) {
				st := readResumable(t, filepath.Join(dir, "runs", prev+".jsonl"), pbPath, invPath)
				f.Restart(world)
				id := fmt.Sprint("resume", round)
				res := runJournalled(t, f, dir, id, prev, st)
				checkResume(t, f, st, res, world, want, &cov)
				if round == int(seed%2) {
					break
				}
				// Crash the resumed run in turn.
				world = crash(t, rng, res.path, world, want)
				prev = id
			}
		})
	}
	if cov.replayed == 0 || cov.verified == 0 || cov.reapplied == 0 || cov.fromEarlier == 0 {
		t.Errorf("the crash points missed a path: %+v", cov)
	}
	t.Logf("%+v", cov)
}

type journalled struct {
	recap *runner.Recap
	path  string
}

// runJournalled runs f with a real journal under dir as run id.
func runJournalled(t *testing.T, f *runner.Fixture, dir, id, resumeOf string, resume runner.Resume) journalled {
	t.Helper()
	pbPath, invPath := f.Paths()
	j, err := journal.Create(dir, journal.Meta{RunID: id, Playbook: pbPath, Inventory: invPath, ResumeOf: resumeOf})
	if err != nil {
		t.Fatal(err)
	}
	opts := runner.Options{Sink: j, RunID: id, Forks: 3}
	if resume != nil {
		opts.Resume = resume
	}
	recap, _ := f.Run(t, t.Context(), opts)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return journalled{recap, j.Path()}
}

func copyJournal(t *testing.T, from, dir, id string) string {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(dir, "runs", id+".jsonl")
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return to
}

// crash cuts the journal at path right after a random step start and
// returns the world that crash leaves, given the world before the run.
func crash(t *testing.T, rng *rand.Rand, path string, before, want map[string]string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	var starts []int
	for i, l := range lines {
		if bytes.Contains(l, []byte(`"kind":"host_task_start"`)) && !bytes.Contains(l, []byte(`"resumed_from"`)) {
			starts = append(starts, i)
		}
	}
	if len(starts) == 0 {
		t.Fatal("the run started no step")
	}
	cut := starts[rng.IntN(len(starts))]
	kept := bytes.Join(lines[:cut+1], nil)
	if next := lines[cut+1]; rng.IntN(2) == 0 && len(next) > 2 {
		kept = append(kept, next[:len(next)/2]...) // torn mid-write
	}
	if err := os.WriteFile(path, kept, 0o600); err != nil {
		t.Fatal(err)
	}

	world := maps.Clone(before)
	ended := map[string]bool{}
	var doubt []string
	for _, l := range lines[1 : cut+1] {
		var e runner.Event
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatal(err)
		}
		key := e.Host + "/" + strings.TrimPrefix(e.Task, "probe.")
		switch {
		case e.ResumedFrom != "":
		case e.Kind == runner.HostTaskStart:
			doubt = append(doubt, key)
		case e.Kind == runner.HostTaskEnd:
			ended[key] = true
			if _, changes := want[key]; changes && (e.Status == runner.StatusOK || e.Status == runner.StatusChanged) {
				world[key] = want[key]
			}
		}
	}
	for _, key := range doubt {
		if _, changes := want[key]; changes && !ended[key] && rng.IntN(2) == 0 {
			world[key] = want[key] // the step did its work; the crash hid it
		}
	}
	return world
}

func readResumable(t *testing.T, path, pbPath, invPath string) *journal.State {
	t.Helper()
	st, err := journal.ReadChain(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Ended {
		t.Fatal("a crashed run's journal says it ended")
	}
	if err := st.Matches(pbPath, invPath); err != nil {
		t.Fatal(err)
	}
	return st
}

// coverage counts what the resumes went through, so the test can tell it
// exercised every path.
type coverage struct{ replayed, verified, reapplied, fromEarlier int }

func checkResume(t *testing.T, f *runner.Fixture, st *journal.State, res journalled, before, want map[string]string, cov *coverage) {
	t.Helper()
	if res.recap.Outcome != runner.OutcomeSuccess {
		t.Fatalf("resumed run: %s: %+v", res.recap.Outcome, res.recap.Hosts)
	}
	if got := f.World(); !maps.Equal(got, want) {
		t.Errorf("world after resume\n%v\nwant\n%v", got, want)
	}
	applies := map[string]int{}
	first := map[string]string{}
	for _, c := range f.Calls() {
		key := c.Host + "/" + c.Task
		if c.Mode == "apply" {
			applies[key]++
		}
		if first[key] == "" {
			first[key] = c.Mode
		}
	}
	for key := range want {
		done := 0
		if _, ok := before[key]; ok {
			done = 1
		}
		if done+applies[key] != 1 {
			t.Errorf("%s applied %d times before the crash and %d after", key, done, applies[key])
		}
	}
	waves := map[string]string{"drain": "out", "note": "out", "install": "upgrade", "verify": "upgrade", "enable": "back"}
	for _, h := range []string{"ctl", "fe01", "fe02", "fe03", "fe04"} {
		for name, wave := range waves {
			key := h + "/" + name
			p, ok := st.Prior(wave, "probe."+name, h)
			switch {
			case !ok:
			case p.Done():
				cov.replayed++
				if p.RunID != st.RunID {
					cov.fromEarlier++
				}
			case p.InDoubt() && applies[key] == 0:
				cov.verified++
			case p.InDoubt():
				cov.reapplied++
			}
			switch {
			case !ok:
			case p.Done() && first[key] != "":
				t.Errorf("%s was done in run %s and was called again (%s)", key, p.RunID, first[key])
			case p.InDoubt() && first[key] != "" && first[key] != "check":
				t.Errorf("%s was in doubt and went straight to %s", key, first[key])
			}
		}
	}
}

// TestResumeRetriesFailedSteps: a resume runs again what failed (and what
// the failed host never reached), replays the rest without calling the
// module, and says so in its events and recap.
func TestResumeRetriesFailedSteps(t *testing.T) {
	const pb = `
wave "w" {
  hosts               = group.web
  max_fail_percentage = 100
  task "probe" "a" {
    name  = "a"
    track = true
  }
  task "probe" "b" {
    name  = "b"
    track = true
    fail  = %s
  }
  task "probe" "c" {
    name  = "c"
    track = true
  }
}
`
	failing := runner.Load(t, fmt.Sprintf(pb, `host.name == "fe03"`))
	dir := t.TempDir()
	first := runJournalled(t, failing, dir, "first", "", nil)
	if first.recap.Outcome != runner.OutcomeFailed {
		t.Fatalf("first run: %s", first.recap.Outcome)
	}
	st, err := journal.ReadChain(first.path)
	if err != nil {
		t.Fatal(err)
	}

	// The operator fixed fe03; the playbook is the same.
	fixed := runner.Load(t, fmt.Sprintf(pb, "false"))
	fixed.Restart(failing.World())
	recap, evs := fixed.Run(t, t.Context(), runner.Options{RunID: "second", Resume: st})
	if recap.Outcome != runner.OutcomeSuccess {
		t.Fatalf("resumed run: %s", recap.Outcome)
	}
	want := []runner.Call{{"fe03", "b", "apply"}, {"fe03", "c", "apply"}}
	if got := fixed.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
	if got := fixed.World(); len(got) != 12 {
		t.Errorf("world %v, want every task on every host", got)
	}
	for _, h := range recap.Hosts {
		wantResumed := 3
		if h.Host == "fe03" {
			wantResumed = 1
		}
		if h.Resumed != wantResumed || h.Failed != 0 || h.OK+h.Changed != 3 {
			t.Errorf("recap %+v, want %d resumed", h, wantResumed)
		}
	}
	for _, e := range evs {
		if e.Kind != runner.HostTaskEnd || e.Host != "fe01" || e.Task != "probe.a" {
			continue
		}
		if e.ResumedFrom != "first" || e.Status != runner.StatusChanged || e.Msg != "done in run first: apply" {
			t.Errorf("replayed step %+v", e)
		}
	}
}

func TestMatches(t *testing.T) {
	f := runner.Load(t, `
wave "w" {
  hosts = host.fe01
  task "probe" "a" {}
}
`)
	pbPath, invPath := f.Paths()
	res := runJournalled(t, f, t.TempDir(), "r1", "", nil)
	st, err := journal.Read(res.path)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other.hcl")
	tests := []struct {
		name, pb, inv, err string
	}{
		{"same", pbPath, invPath, ""},
		{"same, relative", rel(t, pbPath), invPath, ""},
		{"another playbook", other, invPath, "was of the playbook " + pbPath + ", not " + other},
		{"another inventory", pbPath, other, "was of the inventory " + invPath + ", not " + other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := st.Matches(tt.pb, tt.inv)
			if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Matches: %v, want %q", err, tt.err)
			}
		})
	}
}

func rel(t *testing.T, path string) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	r, err := filepath.Rel(wd, path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestResumeAfterRestore: the first run's on_failure waves put the drained
// hosts back in rotation, so what it finished is no longer trusted: the
// resume re-checks every step against the world, drains again what the
// restore undid, and does not re-apply what stayed done.
func TestResumeAfterRestore(t *testing.T) {
	const pb = `
wave "out" {
  hosts = group.web
  task "probe" "out" {
    name   = "out"
    track  = true
    output = { state = "disabled" }
  }
}
wave "upgrade" {
  hosts = group.web
  task "probe" "install" {
    name  = "install"
    track = true
    fail  = %s
  }
}
on_failure "restore" {
  hosts = group.web
  task "probe" "back_in" {
    name   = "out" # the same piece of the world as probe.out
    track  = true
    output = { state = "enabled" }
  }
}
`
	failing := runner.Load(t, fmt.Sprintf(pb, `host.name == "fe02"`))
	dir := t.TempDir()
	first := runJournalled(t, failing, dir, "first", "", nil)
	if first.recap.Outcome != runner.OutcomeBudgetExceeded || first.recap.OnFailure == nil {
		t.Fatalf("first run: %s, on_failure %+v", first.recap.Outcome, first.recap.OnFailure)
	}
	st, err := journal.ReadChain(first.path)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Restored {
		t.Fatal("the journal does not say the restore ran")
	}

	fixed := runner.Load(t, fmt.Sprintf(pb, "false"))
	fixed.Restart(failing.World())
	recap, _ := fixed.Run(t, t.Context(), runner.Options{RunID: "second", Resume: st})
	if recap.Outcome != runner.OutcomeSuccess {
		t.Fatalf("resumed run: %s", recap.Outcome)
	}
	calls := map[string][]string{}
	for _, c := range fixed.Calls() {
		calls[c.Host+"/"+c.Task] = append(calls[c.Host+"/"+c.Task], c.Mode)
	}
	for _, h := range []string{"fe01", "fe02", "fe03", "fe04"} {
		if got := calls[h+"/out"]; !slices.Equal(got, []string{"check", "apply"}) {
			t.Errorf("%s/out: %v, want a re-check that finds the restore undid it, then the drain again", h, got)
		}
		want := []string{"check"}
		if h == "fe02" {
			want = []string{"apply"} // it failed: run again, no question asked
		}
		if got := calls[h+"/install"]; !slices.Equal(got, want) {
			t.Errorf("%s/install: %v, want %v", h, got, want)
		}
		if got := fixed.World()[h+"/out"]; got != "state=disabled;" {
			t.Errorf("%s ends %q", h, got)
		}
	}
}

// TestResumeRereadThroughJournals: the re-reads go through real journals,
// resumed in a chain. Run A drains every front-end and fails to put them
// back; someone puts fe02 back in rotation by hand. Run B, resuming A,
// drains fe02 again (the others are confirmed), puts them all back and
// fails after. Run C, resuming B, re-reads only what B put back: the
// drain B and A did was undone since, by B itself.
func TestResumeRereadThroughJournals(t *testing.T) {
	const pb = `
wave "out" {
  hosts = group.web
  task "probe" "out" {
    label    = "out"
    name     = "rot"
    track    = true
    rotation = "out"
    output   = { state = "out" }
  }
}
wave "in" {
  hosts               = group.web
  max_fail_percentage = 100
  task "probe" "in" {
    label    = "in"
    name     = "rot"
    track    = true
    rotation = "in"
    output   = { state = "in" }
    fail     = %s
  }
  task "probe" "after" {
    label = "after"
    fail  = %s
  }
}
`
	web := []string{"fe01", "fe02", "fe03", "fe04"}
	each := func(modes ...string) map[string][]string {
		out := map[string][]string{}
		for _, h := range web {
			out[h] = modes
		}
		return out
	}
	type step struct {
		inFails, afterFails bool
		drift               map[string]string
		outcome             runner.Outcome
		calls               map[string]map[string][]string // by label, then host
		msgs                map[string]string              // end message by host/task
	}
	steps := []step{
		{inFails: true, outcome: runner.OutcomeFailed,
			calls: map[string]map[string][]string{"out": each("apply"), "in": each("apply")}},
		{afterFails: true, drift: map[string]string{"fe02/rot": "state=in;"}, outcome: runner.OutcomeFailed,
			calls: map[string]map[string][]string{
				"out":   {"fe01": {"check"}, "fe02": {"check", "apply"}, "fe03": {"check"}, "fe04": {"check"}},
				"in":    each("apply"),
				"after": each("apply"),
			},
			msgs: map[string]string{
				"fe01/probe.out": "done in run r0; live state confirmed: apply",
				"fe02/probe.out": "done in run r0, but the live state differs: check: apply",
			}},
		{outcome: runner.OutcomeSuccess,
			calls: map[string]map[string][]string{"in": each("check"), "after": each("apply")},
			msgs: map[string]string{
				"fe01/probe.out": "done in run r0: apply",
				"fe01/probe.in":  "done in run r1; live state confirmed: apply",
			}},
	}
	dir := t.TempDir()
	world := map[string]string{}
	var prev *journal.State
	for i, s := range steps {
		id := fmt.Sprint("r", i)
		f, calls := runner.LoadLive(t, fmt.Sprintf(pb, fmt.Sprint(s.inFails), fmt.Sprint(s.afterFails)))
		for k, v := range s.drift {
			world[k] = v
		}
		f.Restart(world)
		var resume runner.Resume
		resumeOf := ""
		if prev != nil {
			resume, resumeOf = prev, prev.RunID
		}
		pbPath, invPath := f.Paths()
		j, err := journal.Create(dir, journal.Meta{RunID: id, Playbook: pbPath, Inventory: invPath, ResumeOf: resumeOf})
		if err != nil {
			t.Fatal(err)
		}
		recap, evs := f.Run(t, t.Context(), runner.Options{Sink: j, RunID: id, Resume: resume})
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		if recap.Outcome != s.outcome {
			t.Fatalf("run %s: %s, want %s", id, recap.Outcome, s.outcome)
		}
		got := map[string]map[string][]string{}
		for k, modes := range calls() {
			host, label, _ := strings.Cut(k, "/")
			if got[label] == nil {
				got[label] = map[string][]string{}
			}
			got[label][host] = modes
		}
		if !maps.EqualFunc(got, s.calls, func(a, b map[string][]string) bool { return maps.EqualFunc(a, b, slices.Equal) }) {
			t.Errorf("run %s: calls\n%v\nwant\n%v", id, got, s.calls)
		}
		for _, e := range evs {
			if want, ok := s.msgs[e.Host+"/"+e.Task]; ok && e.Kind == runner.HostTaskEnd && e.Msg != want {
				t.Errorf("run %s: %s on %s: %q, want %q", id, e.Task, e.Host, e.Msg, want)
			}
		}
		world = f.World()
		if prev, err = journal.ReadChain(j.Path()); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range web {
		if got := world[h+"/rot"]; got != "state=in;" {
			t.Errorf("%s ends %q", h, got)
		}
	}
}
