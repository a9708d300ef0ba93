package journal

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/osrun/osrun/runner"
)

// Version is the journal format version, written in the first line.
const Version = 1

// header is the first line of every journal.
type header struct {
	Journal   int    `json:"journal"`
	RunID     string `json:"run_id"`
	Playbook  string `json:"playbook"`
	Inventory string `json:"inventory"`
	// ResumeOf names the run this one continues, if any.
	ResumeOf string `json:"resume_of,omitempty"`
	// VarsDigest fingerprints the variable values (Playbook.VarsDigest).
	VarsDigest string `json:"vars_digest,omitempty"`
}

// Journal appends a run's events to its file. It is a runner.Sink.
type Journal struct {
	mu   sync.Mutex
	f    *os.File
	path string
	err  error
}

// Meta describes the run a journal records.
type Meta struct {
	RunID     string
	Playbook  string // absolute path
	Inventory string // absolute path
	ResumeOf  string
	// VarsDigest is the playbook's Playbook.VarsDigest, so a resume with
	// other variable values can be refused.
	VarsDigest string
}

// Create starts a journal for a new run under dir/runs.
func Create(dir string, m Meta) (*Journal, error) {
	runs := filepath.Join(dir, "runs")
	if err := os.MkdirAll(runs, 0o700); err != nil {
		return nil, fmt.Errorf("journal: create state directory: %w", err)
	}
	path := filepath.Join(runs, m.RunID+".jsonl")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: create %s: %w", path, err)
	}
	j := &Journal{f: f, path: path}
	j.write(header{Journal: Version, RunID: m.RunID, Playbook: m.Playbook, Inventory: m.Inventory, ResumeOf: m.ResumeOf, VarsDigest: m.VarsDigest}, true)
	if j.err != nil {
		f.Close()
		return nil, j.err
	}
	syncDir(runs)
	return j, nil
}

// Path is the journal's file.
func (j *Journal) Path() string { return j.path }

// Emit records an event. Steps (host task start and end) and the ends of
// waves and runs are synced to disk before Emit returns, so a crash right
// after a step leaves a journal that says so.
func (j *Journal) Emit(e runner.Event) {
	switch e.Kind {
	case runner.HostTaskStart, runner.HostTaskEnd, runner.WaveEnd, runner.RunEnd, runner.RunStart, runner.BatchEnd:
		j.write(e, true)
	case runner.Progress:
		// Progress lines are for people watching; the journal keeps steps.
	default:
		j.write(e, false)
	}
}

func (j *Journal) write(v any, sync bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return
	}
	line, err := json.Marshal(v)
	if err != nil {
		j.err = fmt.Errorf("journal: encode: %w", err)
		return
	}
	if _, err := j.f.Write(append(line, '\n')); err != nil {
		j.err = fmt.Errorf("journal: write %s: %w", j.path, err)
		return
	}
	if sync {
		if err := j.f.Sync(); err != nil {
			j.err = fmt.Errorf("journal: sync %s: %w", j.path, err)
		}
	}
}

// Err reports the first write failure; a run whose journal cannot be
// written should stop, since it could not be resumed safely.
func (j *Journal) Err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// Close syncs and closes the journal.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return j.err
	}
	err := j.f.Sync()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	j.f = nil
	if j.err == nil && err != nil {
		j.err = fmt.Errorf("journal: close %s: %w", j.path, err)
	}
	return j.err
}

// Step identifies one task on one host within a wave.
type Step struct {
	Wave string
	Task string
	Host string
}

func (s Step) String() string { return s.Wave + "/" + s.Task + "@" + s.Host }

// StepState is what the journal knows about a step.
type StepState struct {
	// Started is true once the step began; Status is set once it ended.
	Started bool
	Status  runner.Status
	Msg     string
	Error   string
	// Output is the step's recorded runner.Event.Output.
	Output []byte
	// RunID is the run that did the step: this journal's, or for a step a
	// resumed run replayed, the run that really did it.
	RunID string
}

// Done reports whether the step finished in a way a resume can trust
// (ok, changed or skipped); anything else must be looked at again.
func (s StepState) Done() bool {
	return s.Status == runner.StatusOK || s.Status == runner.StatusChanged || s.Status == runner.StatusSkipped
}

// InDoubt reports a step that started and never reported an end: it may
// have run partly or wholly, so it must be re-checked, never blindly re-run.
func (s StepState) InDoubt() bool { return s.Started && s.Status == "" }

// State is what an earlier run's journal says.
type State struct {
	Path      string
	RunID     string
	Playbook  string
	Inventory string
	ResumeOf  string
	// VarsDigest is the recorded Meta.VarsDigest, "" when none was.
	VarsDigest string
	// Ended is true when the run reached its run_end event.
	Ended   bool
	Outcome runner.Status // status of the run_end event, if any
	Steps   map[Step]StepState
	// Order lists the steps in the order they started.
	Order []Step
	// LastWave is the last wave that started.
	LastWave string
	// Truncated is true when the last line was cut short (a crash mid-write).
	Truncated bool

	// Restored is true when the run's on_failure waves started: they may
	// have undone steps it had finished.
	Restored bool

	// prev is the state of the run this one resumed, when read by ReadChain.
	prev *State
}

// Read loads a journal. A partial last line (a crash mid-write) is
// tolerated and reported in State.Truncated; damage elsewhere is an error.
func Read(path string) (*State, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	defer f.Close()
	st := &State{Path: path, Steps: map[Step]StepState{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	var pendingErr error
	for sc.Scan() {
		line++
		if pendingErr != nil {
			return nil, pendingErr // a bad line that was not the last one
		}
		raw := sc.Bytes()
		if line == 1 {
			var h header
			if err := json.Unmarshal(raw, &h); err != nil || h.Journal == 0 {
				return nil, fmt.Errorf("journal: %s: line 1 is not a journal header", path)
			}
			if h.Journal > Version {
				return nil, fmt.Errorf("journal: %s: format %d is newer than this osrun understands (%d)", path, h.Journal, Version)
			}
			st.RunID, st.Playbook, st.Inventory, st.ResumeOf, st.VarsDigest = h.RunID, h.Playbook, h.Inventory, h.ResumeOf, h.VarsDigest
			continue
		}
		var e runner.Event
		if err := json.Unmarshal(raw, &e); err != nil {
			pendingErr = fmt.Errorf("journal: %s: line %d: %w", path, line, err)
			continue
		}
		st.apply(e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("journal: read %s: %w", path, err)
	}
	if line == 0 {
		return nil, fmt.Errorf("journal: %s is empty", path)
	}
	st.Truncated = pendingErr != nil
	return st, nil
}

func (st *State) apply(e runner.Event) {
	switch e.Kind {
	case runner.WaveStart:
		if !e.OnFailure {
			st.LastWave = e.Wave
		}
	case runner.HostTaskStart:
		st.Restored = st.Restored || e.OnFailure
		k := Step{e.Wave, e.Task, e.Host}
		if _, seen := st.Steps[k]; !seen {
			st.Order = append(st.Order, k)
		}
		st.Steps[k] = StepState{Started: true}
	case runner.HostTaskEnd:
		k := Step{e.Wave, e.Task, e.Host}
		if _, seen := st.Steps[k]; !seen {
			st.Order = append(st.Order, k)
		}
		by := e.ResumedFrom
		if by == "" {
			by = st.RunID
		}
		st.Steps[k] = StepState{Started: true, Status: e.Status, Msg: e.Msg, Error: e.Error, Output: e.Output, RunID: by}
	case runner.RunEnd:
		st.Ended = true
		st.Outcome = e.Status
	}
}

// ReadChain is Read followed by the journals of the runs it resumed
// (ResumeOf, found next to path), so that a run that stopped while
// resuming another can itself be resumed without forgetting what the
// first one did before the second reached it.
func ReadChain(path string) (*State, error) {
	st, err := Read(path)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{st.RunID: true}
	for cur := st; cur.ResumeOf != ""; cur = cur.prev {
		if seen[cur.ResumeOf] || strings.ContainsAny(cur.ResumeOf, `/\`) {
			return nil, fmt.Errorf("journal: %s: run %s resumes %q, which is not a run to read", path, cur.RunID, cur.ResumeOf)
		}
		seen[cur.ResumeOf] = true
		prev, err := Read(filepath.Join(filepath.Dir(path), cur.ResumeOf+".jsonl"))
		if err != nil {
			return nil, fmt.Errorf("journal: run %s resumed run %s: %w", cur.RunID, cur.ResumeOf, err)
		}
		cur.prev = prev
	}
	return st, nil
}

// Prior tells a resuming runner what this run, or a run it resumed (see
// ReadChain), recorded about a step. It makes State a runner.Resume.
//
// Once a run's on_failure waves started, a step it or an earlier run
// finished may have been undone by the restore (a drained front-end put
// back in rotation): such a step says so in Undone, and the runner checks
// it against the live farm rather than trusting the record.
func (st *State) Prior(wave, task, host string) (runner.PriorStep, bool) {
	p, ok := st.prior(wave, task, host)
	if ok && st.Restored && p.Done() && p.Undone == "" {
		p.Undone = "run " + st.RunID + "'s on_failure waves may have undone it"
	}
	return p, ok
}

func (st *State) prior(wave, task, host string) (runner.PriorStep, bool) {
	s, ok := st.Steps[Step{wave, task, host}]
	if (!ok || s.InDoubt()) && st.prev != nil {
		// A step this run left in doubt but an earlier one finished was
		// being replayed, not run: the earlier record is the truth.
		if p, found := st.prev.Prior(wave, task, host); found && (!ok || p.Done()) {
			return p, true
		}
	}
	if !ok {
		return runner.PriorStep{}, false
	}
	by := s.RunID
	if by == "" {
		by = st.RunID
	}
	return runner.PriorStep{Status: s.Status, Msg: s.Msg, Output: s.Output, RunID: by}, true
}

// Matches reports whether the journal recorded a run of this playbook on
// this inventory; a resume of anything else would trust steps that were
// never run.
func (st *State) Matches(playbookPath, inventoryPath string) error {
	for _, c := range []struct{ what, recorded, given string }{
		{"playbook", st.Playbook, playbookPath},
		{"inventory", st.Inventory, inventoryPath},
	} {
		given, err := filepath.Abs(c.given)
		if err != nil {
			return fmt.Errorf("journal: %s %s: %w", c.what, c.given, err)
		}
		if filepath.Clean(c.recorded) != given {
			return fmt.Errorf("journal: run %s was of the %s %s, not %s", st.RunID, c.what, c.recorded, given)
		}
	}
	return nil
}

// MatchesVars reports whether the journal's run had these variable values
// (Playbook.VarsDigest): resumed with others, say another target version,
// the steps it finished would not be what this run means to do. A journal
// that recorded no digest is not refused.
func (st *State) MatchesVars(digest string) error {
	if st.VarsDigest == "" || st.VarsDigest == digest {
		return nil
	}
	return fmt.Errorf("journal: run %s ran with other variable values; resume it with the same --var and --var-file values", st.RunID)
}

// InDoubt lists the steps that started and never ended.
func (st *State) InDoubt() []Step {
	var out []Step
	for _, k := range st.Order {
		if st.Steps[k].InDoubt() {
			out = append(out, k)
		}
	}
	return out
}

// Latest returns the newest journal under dir, or an error wrapping
// os.ErrNotExist when there is none. Run ids sort by time.
func Latest(dir string) (string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "runs", "*.jsonl"))
	if err != nil {
		return "", err
	}
	if len(paths) == 0 {
		return "", fmt.Errorf("journal: no run recorded under %s: %w", dir, os.ErrNotExist)
	}
	sort.Strings(paths)
	return paths[len(paths)-1], nil
}

// ForRun finds the journal of a run id under dir.
func ForRun(dir, runID string) (string, error) {
	if strings.ContainsAny(runID, `/\`) {
		return "", errors.New("journal: a run id has no path separators")
	}
	p := filepath.Join(dir, "runs", runID+".jsonl")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("journal: run %s: %w", runID, err)
	}
	return p, nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
