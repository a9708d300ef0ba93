package journal

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/osrun/osrun/runner"
)

func TestJournalRoundTripAndInDoubtSteps(t *testing.T) {
	dir := t.TempDir()
	j, err := Create(dir, Meta{RunID: "20261125T030000Z", Playbook: "/p/upgrade.hcl", Inventory: "/p/inventory.hcl"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []runner.Event{
		{Kind: runner.RunStart, RunID: "20261125T030000Z"},
		{Kind: runner.WaveStart, Wave: "drain"},
		{Kind: runner.HostTaskStart, Wave: "drain", Task: "lb_member.out", Host: "fe01"},
		{Kind: runner.Progress, Wave: "drain", Task: "lb_member.out", Host: "fe01", Msg: "3 sessions"},
		{Kind: runner.HostTaskEnd, Wave: "drain", Task: "lb_member.out", Host: "fe01", Status: runner.StatusChanged},
		{Kind: runner.WaveStart, Wave: "upgrade"},
		{Kind: runner.HostTaskStart, Wave: "upgrade", Task: "installer.platform", Host: "fe01"},
		{Kind: runner.HostTaskStart, Wave: "upgrade", Task: "installer.platform", Host: "fe02"},
		{Kind: runner.HostTaskEnd, Wave: "upgrade", Task: "installer.platform", Host: "fe02", Status: runner.StatusFailed, Error: "exit 2"},
	} {
		j.Emit(e)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(j.Path())
	if strings.Contains(string(data), "3 sessions") {
		t.Error("progress lines should not be journalled")
	}

	st, err := Read(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	if st.RunID != "20261125T030000Z" || st.Playbook != "/p/upgrade.hcl" || st.Ended || st.LastWave != "upgrade" {
		t.Errorf("state header/progress wrong: %+v", st)
	}
	tests := []struct {
		step          Step
		done, inDoubt bool
		status        runner.Status
	}{
		{Step{"drain", "lb_member.out", "fe01"}, true, false, runner.StatusChanged},
		{Step{"upgrade", "installer.platform", "fe01"}, false, true, ""},
		{Step{"upgrade", "installer.platform", "fe02"}, false, false, runner.StatusFailed},
	}
	for _, tt := range tests {
		s := st.Steps[tt.step]
		if s.Done() != tt.done || s.InDoubt() != tt.inDoubt || s.Status != tt.status {
			t.Errorf("%s: done=%v inDoubt=%v status=%q, want %v %v %q", tt.step, s.Done(), s.InDoubt(), s.Status, tt.done, tt.inDoubt, tt.status)
		}
	}
	if got := st.InDoubt(); len(got) != 1 || got[0].Host != "fe01" {
		t.Errorf("InDoubt() = %v", got)
	}
}

func TestReadToleratesATornLastLineOnly(t *testing.T) {
	dir := t.TempDir()
	good := `{"journal":1,"run_id":"r1"}` + "\n" + `{"kind":"host_task_start","wave":"w","task":"t.x","host":"fe01"}` + "\n"
	torn := good + `{"kind":"host_task_end","wave":"w","ta`
	p := dir + "/torn.jsonl"
	os.WriteFile(p, []byte(torn), 0o600)
	st, err := Read(p)
	if err != nil {
		t.Fatalf("a torn last line must be tolerated: %v", err)
	}
	if !st.Truncated || !st.Steps[Step{"w", "t.x", "fe01"}].InDoubt() {
		t.Errorf("state = %+v", st)
	}
	damaged := `{"journal":1,"run_id":"r1"}` + "\n" + `garbage` + "\n" + `{"kind":"run_end"}` + "\n"
	os.WriteFile(p, []byte(damaged), 0o600)
	if _, err := Read(p); err == nil {
		t.Error("damage before the last line must be an error")
	}
	os.WriteFile(p, []byte(`{"journal":99,"run_id":"r1"}`+"\n"), 0o600)
	if _, err := Read(p); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("a newer format must be refused, got %v", err)
	}
}

func TestLatestPicksTheNewestRun(t *testing.T) {
	dir := t.TempDir()
	if _, err := Latest(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("empty dir: %v", err)
	}
	for _, id := range []string{"20261125T010000Z", "20261125T030000Z", "20261125T020000Z"} {
		j, err := Create(dir, Meta{RunID: id})
		if err != nil {
			t.Fatal(err)
		}
		j.Close()
	}
	p, err := Latest(dir)
	if err != nil || !strings.HasSuffix(p, "20261125T030000Z.jsonl") {
		t.Errorf("Latest = %q, %v", p, err)
	}
	if _, err := Create(dir, Meta{RunID: "20261125T030000Z"}); err == nil {
		t.Error("a run id must not be journalled twice")
	}
}

func TestLockRefusesASecondRunAndBreaksOnlyStaleLocks(t *testing.T) {
	dir := t.TempDir()
	inv := "/farm/inventory.hcl"
	me := CurrentHolder("run1", inv)
	l, err := Acquire(dir, me, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(dir, CurrentHolder("run2", inv), true)
	var locked *LockedError
	if !errors.As(err, &locked) || locked.Stale || locked.Holder.RunID != "run1" {
		t.Fatalf("second acquire: %v", err)
	}
	for _, want := range []string{me.User, me.Host, "pid", "run1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("lock error %q should name %q", err, want)
		}
	}
	// Another inventory is another farm.
	other, err := Acquire(dir, CurrentHolder("run3", "/other/inventory.hcl"), false)
	if err != nil {
		t.Fatalf("another inventory: %v", err)
	}
	other.Release()
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("second release: %v", err)
	}

	// A lock left by a process that has exited is stale.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	ghost := CurrentHolder("ghost", inv)
	ghost.PID = dead.ProcessState.Pid()
	ghost.Since = time.Now().Add(-time.Hour)
	if _, err := Acquire(dir, ghost, false); err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(dir, CurrentHolder("run4", inv), false)
	if !errors.As(err, &locked) || !locked.Stale || !strings.Contains(err.Error(), "--break-stale-lock") {
		t.Fatalf("stale lock not reported as such: %v", err)
	}
	l4, err := Acquire(dir, CurrentHolder("run4", inv), true)
	if err != nil {
		t.Fatalf("breaking a stale lock: %v", err)
	}
	if cur, _ := Inspect(dir, inv); cur == nil || cur.Holder.RunID != "run4" {
		t.Errorf("after breaking, holder = %+v", cur)
	}
	l4.Release()

	// A lock from another machine is never presumed dead.
	remote := CurrentHolder("remote", inv)
	remote.Host = "some-other-machine"
	remote.PID = ghost.PID
	if _, err := Acquire(dir, remote, false); err != nil {
		t.Fatal(err)
	}
	if _, err := Acquire(dir, CurrentHolder("run5", inv), true); !errors.As(err, &locked) || locked.Stale {
		t.Errorf("a remote holder must not be broken: %v", err)
	}
}

// TestReadChainPrefersWhatAnEarlierRunFinished: run b resumed run a and
// crashed while replaying a step a had finished; c, resuming b, must see
// that step as done, and see steps b never reached as a left them.
func TestReadChainPrefersWhatAnEarlierRunFinished(t *testing.T) {
	dir := t.TempDir()
	write := func(m Meta, evs ...runner.Event) string {
		j, err := Create(dir, m)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			j.Emit(e)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		return j.Path()
	}
	step := func(kind runner.Kind, host string, status runner.Status, from string) runner.Event {
		return runner.Event{Kind: kind, Wave: "w", Task: "probe.x", Host: host, Status: status, ResumedFrom: from, Output: []byte(`{"value":{},"type":["object",{}]}`)}
	}
	write(Meta{RunID: "a"},
		step(runner.HostTaskStart, "fe01", "", ""), step(runner.HostTaskEnd, "fe01", runner.StatusChanged, ""),
		step(runner.HostTaskStart, "fe02", "", ""), step(runner.HostTaskEnd, "fe02", runner.StatusOK, ""),
		step(runner.HostTaskStart, "fe03", "", ""), step(runner.HostTaskEnd, "fe03", runner.StatusFailed, ""),
		step(runner.HostTaskStart, "fe04", "", ""),
	)
	b := write(Meta{RunID: "b", ResumeOf: "a"},
		step(runner.HostTaskStart, "fe01", "", "a"), // crashed mid-replay
		step(runner.HostTaskStart, "fe04", "", ""), step(runner.HostTaskEnd, "fe04", runner.StatusOK, ""),
	)
	st, err := ReadChain(b)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host   string
		found  bool
		status runner.Status
		runID  string
	}{
		{"fe01", true, runner.StatusChanged, "a"},
		{"fe02", true, runner.StatusOK, "a"},
		{"fe03", true, runner.StatusFailed, "a"},
		{"fe04", true, runner.StatusOK, "b"},
		{"fe05", false, "", ""},
	}
	for _, tt := range tests {
		p, ok := st.Prior("w", "probe.x", tt.host)
		if ok != tt.found || p.Status != tt.status || p.RunID != tt.runID {
			t.Errorf("%s: %v %+v, want %v %q from %q", tt.host, ok, p, tt.found, tt.status, tt.runID)
		}
	}

	loop := write(Meta{RunID: "c", ResumeOf: "d"})
	write(Meta{RunID: "d", ResumeOf: "c"})
	if _, err := ReadChain(loop); err == nil || !strings.Contains(err.Error(), "not a run to read") {
		t.Errorf("a loop of resumes: %v", err)
	}
	lost := write(Meta{RunID: "e", ResumeOf: "gone"})
	if _, err := ReadChain(lost); err == nil || !strings.Contains(err.Error(), "run e resumed run gone") {
		t.Errorf("a missing earlier journal: %v", err)
	}
}

func TestMatchesVars(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, recorded, given string
		ok                    bool
	}{
		{"same", "abc", "abc", true},
		{"other values", "abc", "abd", false},
		{"none recorded", "", "abc", true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := Create(dir, Meta{RunID: fmt.Sprint("r", i), VarsDigest: tt.recorded})
			if err != nil {
				t.Fatal(err)
			}
			j.Close()
			st, err := Read(j.Path())
			if err != nil {
				t.Fatal(err)
			}
			if err := st.MatchesVars(tt.given); (err == nil) != tt.ok {
				t.Errorf("MatchesVars: %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
