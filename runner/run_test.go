package runner

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
)

func TestWaveOrder(t *testing.T) {
	f := load(t, `
wave "first" {
  hosts = group.web
  task "probe" "a" { name = "first" }
}
wave "second" {
  hosts = [host.ctl, host.fe01]
  task "probe" "b" { name = "second" }
}
wave "third" {
  hosts = host.fe04
  task "probe" "c" { name = "third" }
}
`)
	recap, evs := f.run(t, t.Context(), Options{})
	if recap.Outcome != OutcomeSuccess {
		t.Fatalf("outcome %s", recap.Outcome)
	}
	var waves []string
	for _, ev := range evs.of(WaveStart) {
		waves = append(waves, ev.Wave)
	}
	if want := []string{"first", "second", "third"}; !slices.Equal(waves, want) {
		t.Errorf("waves started %v, want %v", waves, want)
	}
	var order []string
	for _, c := range f.rec.calls {
		if len(order) == 0 || order[len(order)-1] != c.task {
			order = append(order, c.task)
		}
	}
	if want := []string{"first", "second", "third"}; !slices.Equal(order, want) {
		t.Errorf("calls interleave waves: %v", order)
	}
	if got := evs[0].Kind; got != RunStart {
		t.Errorf("first event %s", got)
	}
	if last := evs[len(evs)-1]; last.Kind != RunEnd || last.Msg != string(OutcomeSuccess) {
		t.Errorf("last event %+v", last)
	}
	// Recap in inventory order, whatever order the waves named hosts in.
	var hosts []string
	for _, h := range recap.Hosts {
		hosts = append(hosts, h.Host)
	}
	if want := []string{"ctl", "fe01", "fe02", "fe03", "fe04"}; !slices.Equal(hosts, want) {
		t.Errorf("recap hosts %v, want %v", hosts, want)
	}
	if got := recap.host("fe01"); got.OK != 2 {
		t.Errorf("fe01 recap %+v, want ok=2", got)
	}
}

func TestBatchSizes(t *testing.T) {
	tests := []struct {
		serial string
		want   [][]string
	}{
		{``, [][]string{{"ctl", "fe01", "fe02", "fe03", "fe04"}}},
		{`serial = 2`, [][]string{{"ctl", "fe01"}, {"fe02", "fe03"}, {"fe04"}}},
		{`serial = "40%"`, [][]string{{"ctl", "fe01"}, {"fe02", "fe03"}, {"fe04"}}},
		{`serial = "10%"`, [][]string{{"ctl"}, {"fe01"}, {"fe02"}, {"fe03"}, {"fe04"}}},
		{`serial = [1, "50%"]`, [][]string{{"ctl"}, {"fe01", "fe02"}, {"fe03", "fe04"}}},
		{`serial = [1, 3, 1]`, [][]string{{"ctl"}, {"fe01", "fe02", "fe03"}, {"fe04"}}},
	}
	for _, tt := range tests {
		t.Run(tt.serial, func(t *testing.T) {
			f := load(t, `
wave "all" {
  hosts = group.all
  `+tt.serial+`
  task "probe" "a" {}
}
`)
			_, evs := f.run(t, t.Context(), Options{})
			var got [][]string
			for _, ev := range evs.of(BatchStart) {
				got = append(got, ev.Hosts)
				if ev.Batches != len(tt.want) {
					t.Errorf("batch %d of %d, want of %d", ev.Batch, ev.Batches, len(tt.want))
				}
			}
			if !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("batches %v, want %v", got, tt.want)
			}
			plan, err := Plan(f.pb, f.inv, nil)
			if err != nil {
				t.Fatal(err)
			}
			var planned [][]string
			for _, b := range plan.Waves[0].Batches {
				planned = append(planned, b.Hosts)
			}
			if !slices.EqualFunc(planned, tt.want, slices.Equal) {
				t.Errorf("plan batches %v, want %v", planned, tt.want)
			}
		})
	}
}

// TestLockStep gives hosts different task durations: a runner that let a
// fast host run ahead would start task b before the slow host ended a.
func TestLockStep(t *testing.T) {
	for _, forks := range []int{1, 2, 5} {
		t.Run("forks "+string(rune('0'+forks)), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := load(t, `
wave "w" {
  hosts  = [host.fe01, host.fe02, host.fe03, host.ctl]
  serial = 3
  task "probe" "a" {
    name  = "a"
    sleep = host.name == "fe01" ? "30s" : "1s"
  }
  task "probe" "b" {
    name  = "b"
    sleep = host.name == "fe02" ? "20s" : "2s"
  }
  task "probe" "c" { name = "c" }
}
`)
				recap, _ := f.run(t, t.Context(), Options{Forks: forks})
				if recap.Outcome != OutcomeSuccess {
					t.Fatalf("outcome %s", recap.Outcome)
				}
				// Within each batch, the task sequence must be a…a b…b c…c.
				batches := [][]string{{"fe01", "fe02", "fe03"}, {"ctl"}}
				i := 0
				for _, batch := range batches {
					var seq []string
					for _, c := range f.rec.calls[i : i+3*len(batch)] {
						if !slices.Contains(batch, c.host) {
							t.Fatalf("call on %s outside its batch %v", c.host, batch)
						}
						seq = append(seq, c.task)
					}
					i += 3 * len(batch)
					want := slices.Concat(repeat("a", len(batch)), repeat("b", len(batch)), repeat("c", len(batch)))
					if !slices.Equal(seq, want) {
						t.Errorf("batch %v ran %v, want %v", batch, seq, want)
					}
				}
			})
		})
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestForks(t *testing.T) {
	tests := []struct {
		forks, want int
	}{
		{forks: 1, want: 1},
		{forks: 2, want: 2},
		{forks: 0, want: 5}, // the default
		{forks: 10, want: 5},
	}
	for _, tt := range tests {
		t.Run(string(rune('0'+tt.forks)), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := load(t, `
wave "w" {
  hosts = group.all
  task "probe" "a" { sleep = "10s" }
}
`)
				f.run(t, t.Context(), Options{Forks: tt.forks})
				if f.rec.maxActive != tt.want {
					t.Errorf("at most %d hosts ran at once, want %d", f.rec.maxActive, tt.want)
				}
			})
		})
	}
}

func TestFailureStopsHost(t *testing.T) {
	f := load(t, `
wave "one" {
  hosts               = group.web
  max_fail_percentage = 50
  task "probe" "a" {
    name = "a"
    fail = host.name == "fe02"
  }
  task "probe" "b" { name = "b" }
}
wave "two" {
  hosts               = group.web
  max_fail_percentage = 100
  task "probe" "c" { name = "c" }
}
`)
	recap, evs := f.run(t, t.Context(), Options{})
	if recap.Outcome != OutcomeFailed {
		t.Errorf("outcome %s, want failed", recap.Outcome)
	}
	if got := f.rec.tasksOn("fe02"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("fe02 ran %v after failing", got)
	}
	if got := f.rec.tasksOn("fe01"); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("fe01 ran %v", got)
	}
	if got := recap.host("fe02"); got.Failed != 1 || got.OK != 0 || got.FailedTask != "probe.a" || !strings.Contains(got.Error, "probe failed") {
		t.Errorf("fe02 recap %+v", got)
	}
	if got := recap.host("fe01"); got.FailedTask != "" || got.Error != "" {
		t.Errorf("fe01 recap %+v", got)
	}
	for _, ev := range evs.of(HostTaskEnd) {
		if ev.Host == "fe02" && (ev.Status != StatusFailed || !strings.Contains(ev.Error, "probe failed")) {
			t.Errorf("fe02 event %+v", ev)
		}
	}
}

func TestFailureBudget(t *testing.T) {
	const fail = `fail = host.name == "fe01"`
	const refuse = `refuse = host.name == "fe01"`
	tests := []struct {
		name        string
		maxFail     string
		probe       string // how probe.a fails on fe01
		wantOutcome Outcome
		wantWave2   bool
		wantBatches int // batches of wave one that started
	}{
		{"default stops at the first failure", ``, fail, OutcomeBudgetExceeded, false, 1},
		{"25% of 4 allows one failure", `max_fail_percentage = 25`, fail, OutcomeFailed, true, 4},
		{"20% of 4 does not", `max_fail_percentage = 20`, fail, OutcomeBudgetExceeded, false, 1},
		{"100% lets a failure go on", `max_fail_percentage = 100`, fail, OutcomeFailed, true, 4},
		{"a step not approved stops the run whatever the budget", `max_fail_percentage = 100`, refuse, OutcomeBudgetExceeded, false, 1},
		{"unless its failure is ignored", `max_fail_percentage = 100`, refuse + "\n    ignore_errors = true", OutcomeSuccess, true, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := load(t, `
wave "one" {
  hosts  = group.web
  serial = 1
  `+tt.maxFail+`
  task "probe" "a" {
    `+tt.probe+`
  }
}
wave "two" {
  hosts = group.web
  task "probe" "b" { name = "two" }
}
`)
			recap, evs := f.run(t, t.Context(), Options{})
			if recap.Outcome != tt.wantOutcome {
				t.Errorf("outcome %s, want %s", recap.Outcome, tt.wantOutcome)
			}
			if got := len(evs.of(WaveStart)) == 2; got != tt.wantWave2 {
				t.Errorf("wave two started: %v, want %v", got, tt.wantWave2)
			}
			if got := len(evs.of(BatchStart)) - btoi(tt.wantWave2); got != tt.wantBatches {
				t.Errorf("%d batches of wave one started, want %d", got, tt.wantBatches)
			}
			if tt.wantOutcome == OutcomeBudgetExceeded && recap.StoppedAt != "one" {
				t.Errorf("stopped at %q", recap.StoppedAt)
			}
			if tt.probe == refuse {
				if end := evs.of(WaveEnd)[0]; !strings.Contains(end.Msg, "a step was not approved: stopping whatever max_fail_percentage") {
					t.Errorf("wave one ended with %q, want why it stopped", end.Msg)
				}
			}
			wantReason := ""
			switch {
			case tt.wantOutcome != OutcomeBudgetExceeded:
			case tt.probe == refuse:
				wantReason = "a step was not approved"
			default:
				wantReason = "the failure budget was exceeded (max_fail_percentage " + strings.TrimPrefix(tt.maxFail, "max_fail_percentage = ")
				if tt.maxFail == "" {
					wantReason += "0"
				}
				wantReason += ")"
			}
			if recap.StopReason != wantReason {
				t.Errorf("stop reason %q, want %q", recap.StopReason, wantReason)
			}
			if end := evs.of(RunEnd)[0]; end.Error != wantReason {
				t.Errorf("run_end error %q, want %q", end.Error, wantReason)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := load(t, `
wave "one" {
  hosts = group.web
  task "probe" "a" {
    name   = "a"
    cancel = host.name == "fe01"
    sleep  = host.name == "fe01" ? "1s" : null # so fe02 has started
    wait   = true
  }
  task "probe" "b" { name = "b" }
}
wave "two" {
  hosts = group.all
  task "probe" "c" { name = "c" }
}
`)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		f.rec.cancel = cancel
		recap, evs := f.run(t, ctx, Options{Forks: 2})
		if recap.Outcome != OutcomeInterrupted || recap.StoppedAt != "one" {
			t.Errorf("outcome %s at %q, want interrupted at one", recap.Outcome, recap.StoppedAt)
		}
		// fe01 and fe02 were in flight and saw the cancellation; fe03 and
		// fe04 never started, nor did b or wave two.
		var ran []string
		for _, c := range f.rec.calls {
			ran = append(ran, c.host+"/"+c.task)
		}
		slices.Sort(ran)
		if want := []string{"fe01/a", "fe02/a"}; !slices.Equal(ran, want) {
			t.Errorf("ran %v, want %v", ran, want)
		}
		for _, ev := range evs.of(HostTaskEnd) {
			if ev.Status != StatusInterrupted {
				t.Errorf("%s ended %s, want interrupted", ev.Host, ev.Status)
			}
		}
		if got := recap.host("fe01"); got.Interrupted != 1 || got.Failed != 0 {
			t.Errorf("fe01 recap %+v", got)
		}
		if last := evs[len(evs)-1]; last.Kind != RunEnd || last.Status != StatusInterrupted {
			t.Errorf("last event %+v", last)
		}
	})
}

func TestCheckMode(t *testing.T) {
	src := `
wave "w" {
  hosts = host.fe01
  task "probe" "plain" { name = "plain" }
  task "probe" "read" {
    name       = "read"
    check_mode = false
  }
  task "probe" "careful" {
    name       = "careful"
    check_mode = true
  }
}
`
	tests := []struct {
		check bool
		want  []string
	}{
		{check: true, want: []string{"plain:check", "read:apply", "careful:check"}},
		{check: false, want: []string{"plain:apply", "read:apply", "careful:check"}},
	}
	for _, tt := range tests {
		name := "apply"
		if tt.check {
			name = "check"
		}
		t.Run(name, func(t *testing.T) {
			f := load(t, src)
			recap, evs := f.run(t, t.Context(), Options{Check: tt.check})
			var got []string
			for _, c := range f.rec.calls {
				got = append(got, c.task+":"+c.mode)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("calls %v, want %v", got, tt.want)
			}
			if recap.Check != tt.check || evs[0].Check != tt.check {
				t.Errorf("check flag not reported")
			}
		})
	}
}

func TestWhenSkipped(t *testing.T) {
	f := load(t, `
wave "w" {
  hosts = group.web
  task "probe" "dotnet" {
    name = "dotnet"
    when = host.stack == "dotnet"
  }
}
`)
	recap, _ := f.run(t, t.Context(), Options{})
	for _, h := range []string{"fe01", "fe02"} {
		if got := recap.host(h); got.Skipped != 1 || len(f.rec.tasksOn(h)) != 0 {
			t.Errorf("%s: recap %+v, calls %v; want skipped", h, got, f.rec.tasksOn(h))
		}
	}
	for _, h := range []string{"fe03", "fe04"} {
		if got := recap.host(h); got.OK != 1 {
			t.Errorf("%s: recap %+v, want ok", h, got)
		}
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		wantStatus  Status
		wantAttempt int
	}{
		{"error then success", `fail_times = 2
    retries = 3
    delay = "10s"`, StatusOK, 3},
		{"too few retries", `fail_times = 2
    retries = 1
    delay = "10s"`, StatusFailed, 2},
		{"until", `retries = 5
    delay = "1m"
    until = self.output.attempt >= 4`, StatusOK, 4},
		{"until never true", `retries = 2
    until = self.changed`, StatusFailed, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := load(t, `
wave "w" {
  hosts               = host.fe01
  max_fail_percentage = 100
  task "probe" "a" {
    `+tt.body+`
  }
}
`)
				_, evs := f.run(t, t.Context(), Options{})
				end := evs.of(HostTaskEnd)[0]
				if end.Status != tt.wantStatus || end.Attempt != tt.wantAttempt {
					t.Errorf("ended %s after %d attempts (%s), want %s after %d", end.Status, end.Attempt, end.Error, tt.wantStatus, tt.wantAttempt)
				}
				if got := len(f.rec.calls); got != tt.wantAttempt {
					t.Errorf("%d calls, want %d", got, tt.wantAttempt)
				}
				if got := len(evs.of(Progress)); got != tt.wantAttempt-1 {
					t.Errorf("%d retry progress events, want %d", got, tt.wantAttempt-1)
				}
			})
		})
	}
}

func TestTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := load(t, `
wave "w" {
  hosts = host.fe01
  task "probe" "a" {
    wait    = true
    timeout = "5m"
  }
}
`)
		recap, evs := f.run(t, t.Context(), Options{})
		end := evs.of(HostTaskEnd)[0]
		if end.Status != StatusFailed || !strings.Contains(end.Error, "timed out after 5m0s") || end.Duration != 5*60e9 {
			t.Errorf("ended %s after %s: %s", end.Status, end.Duration, end.Error)
		}
		if recap.Outcome != OutcomeBudgetExceeded {
			t.Errorf("outcome %s", recap.Outcome)
		}
	})
}

func TestResultsReferenced(t *testing.T) {
	f := load(t, `
wave "one" {
  hosts = group.web
  task "probe" "version" {
    changed = host.name == "fe01"
    output  = { version = host.name == "fe02" ? "11.31.0" : "11.30.0" }
  }
}
wave "two" {
  hosts = group.web
  task "probe" "after_change" {
    name = "after_change"
    when = task.probe.version.changed
  }
  task "probe" "outdated" {
    name = "outdated"
    when = task.probe.version.version != "11.31.0"
  }
}
`)
	f.run(t, t.Context(), Options{})
	want := map[string][]string{
		"fe01": {"", "after_change", "outdated"},
		"fe02": {""},
		"fe03": {"", "outdated"},
	}
	for h, w := range want {
		if got := f.rec.tasksOn(h); !slices.Equal(got, w) {
			t.Errorf("%s ran %v, want %v", h, got, w)
		}
	}
}

func TestConnections(t *testing.T) {
	f := load(t, `
wave "one" {
  hosts               = group.web
  max_fail_percentage = 100
  task "probe" "api" {}
  task "probe" "a" {
    on      = "host"
    on_conn = true
  }
}
wave "two" {
  hosts = [host.ctl, group.web]
  max_fail_percentage = 100
  task "probe" "b" {
    on      = "host"
    on_conn = true
  }
}
`)
	var evs events
	recap, err := Run(t.Context(), f.pb, f.inv, Options{
		Sink:    &evs,
		Dialers: map[string]Dialer{"local": f.rec.dialer("fe03")},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"ctl", "fe01", "fe02", "fe03", "fe04"} {
		if f.rec.dials[h] != 1 {
			t.Errorf("%s dialled %d times, want once", h, f.rec.dials[h])
		}
		wantClose := 1
		if h == "fe03" {
			wantClose = 0
		}
		if f.rec.closes[h] != wantClose {
			t.Errorf("%s closed %d times, want %d", h, f.rec.closes[h], wantClose)
		}
	}
	if got := recap.host("fe03"); got.Unreachable != 1 || got.OK != 1 {
		t.Errorf("fe03 recap %+v, want ok=1 unreachable=1", got)
	}
	if got := f.rec.tasksOn("fe03"); len(got) != 1 {
		t.Errorf("fe03 ran %d tasks after being unreachable", len(got)-1)
	}
	if recap.Outcome != OutcomeFailed {
		t.Errorf("outcome %s", recap.Outcome)
	}
}

func TestOptionsErrors(t *testing.T) {
	f := load(t, `
wave "w" {
  hosts = group.web
  task "probe" "a" { on = "host" }
}
`)
	if _, err := Run(t.Context(), f.pb, f.inv, Options{Limit: []string{"fe09"}}); err == nil || !strings.Contains(err.Error(), `"fe09"`) {
		t.Errorf("unknown limit: %v", err)
	}
	if _, err := Plan(f.pb, f.inv, []string{"nope"}); err == nil {
		t.Error("Plan accepted an unknown limit")
	}
	if _, err := Run(t.Context(), f.pb, f.inv, Options{}); err == nil || !strings.Contains(err.Error(), `no transport "local"`) {
		t.Errorf("missing dialer: %v", err)
	}
	other := load(t, "")
	if _, err := Run(t.Context(), f.pb, other.inv, Options{}); err == nil || !strings.Contains(err.Error(), "another inventory") {
		t.Errorf("playbook of another inventory: %v", err)
	}
}

func TestLimit(t *testing.T) {
	f := load(t, `
wave "w" {
  hosts = group.all
  task "probe" "a" {}
}
`)
	recap, _ := f.run(t, t.Context(), Options{Limit: []string{"fe03", "controller"}})
	var hosts []string
	for _, h := range recap.Hosts {
		hosts = append(hosts, h.Host)
	}
	if want := []string{"ctl", "fe03"}; !slices.Equal(hosts, want) {
		t.Errorf("limited run touched %v, want %v", hosts, want)
	}
}

func TestEvents(t *testing.T) {
	f := load(t, `
wave "w" {
  hosts = [host.fe01, host.fe02]
  task "probe" "a" {
    progress = "draining ${host.name}"
    changed  = true
  }
}
`)
	_, evs := f.run(t, t.Context(), Options{RunID: "r1", Diff: true})
	var kinds []Kind
	for _, ev := range evs {
		if ev.RunID != "r1" || ev.Time.IsZero() {
			t.Errorf("event without run id or time: %+v", ev)
		}
		if ev.Kind != HostTaskStart && ev.Kind != HostTaskEnd && ev.Kind != Progress {
			kinds = append(kinds, ev.Kind)
		}
	}
	want := []Kind{RunStart, WaveStart, BatchStart, TaskStart, TaskEnd, BatchEnd, WaveEnd, RunEnd}
	if !slices.Equal(kinds, want) {
		t.Errorf("kinds %v, want %v", kinds, want)
	}
	if got := len(evs.of(HostTaskStart, HostTaskEnd, Progress)); got != 6 {
		t.Errorf("%d host events, want 6", got)
	}
	for _, ev := range evs.of(Progress) {
		if ev.Msg != "draining "+ev.Host || ev.Task != "probe.a" {
			t.Errorf("progress %+v", ev)
		}
	}
	for _, ev := range evs.of(HostTaskEnd, TaskEnd) {
		if ev.Status != StatusChanged || ev.Wave != "w" || ev.Batch != 1 {
			t.Errorf("%s %+v", ev.Kind, ev)
		}
	}
	if _, err := json.Marshal(evs); err != nil {
		t.Error(err)
	}
}

func TestPlanJSON(t *testing.T) {
	f := load(t, `
wave "w" {
  description = "one at a time"
  hosts       = group.web
  serial      = [1, "50%"]
  task "probe" "a" {
    when    = host.stack == "dotnet"
    timeout = "1m"
  }
}
`)
	plan, err := Plan(f.pb, f.inv, []string{"fe01", "fe02", "fe03"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"playbook":"` + f.pb.Filename + `","waves":[{"name":"w","description":"one at a time","serial":["1","50%"],"max_fail_percentage":0,"hosts":["fe01","fe02","fe03"],"batches":[{"hosts":["fe01"]},{"hosts":["fe02"]},{"hosts":["fe03"]}],"tasks":[{"task":"probe.a","module":"probe","name":"a","on":"control","when":"host.stack == \"dotnet\"","timeout":"1m0s"}]}]}`
	if string(got) != want {
		t.Errorf("plan\n got %s\nwant %s", got, want)
	}
}

func TestModulePanicFailsOnlyItsHost(t *testing.T) {
	f := load(t, `
wave "w" {
  hosts               = group.web
  max_fail_percentage = 100
  task "probe" "a" {
    name  = "a"
    panic = host.name == "fe03"
  }
  task "probe" "b" { name = "b" }
}
`)
	recap, _ := f.run(t, t.Context(), Options{})
	if got := recap.host("fe03"); got.Failed != 1 || !strings.Contains(got.Error, "panicked: probe: deliberate panic") {
		t.Errorf("fe03 recap %+v", got)
	}
	if got := f.rec.tasksOn("fe04"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("fe04 ran %v", got)
	}
}

func TestRuntimeEvaluationErrors(t *testing.T) {
	tests := []struct {
		name, body, wantErr string
	}{
		{"when not a bool", `when = host.name`, "when: the condition must be true or false"},
		{"argument of the wrong type", `sleep = host.vars`, "argument sleep: must be string: string required"},
		{"module rejects its arguments", `sleep = "soon"`, "module probe: argument sleep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := load(t, `
wave "w" {
  hosts = host.fe01
  task "probe" "a" {
    `+tt.body+`
  }
}
`)
			recap, _ := f.run(t, t.Context(), Options{})
			got := recap.host("fe01")
			if got.Failed != 1 || !strings.Contains(got.Error, tt.wantErr) {
				t.Errorf("recap %+v, want failure %q", got, tt.wantErr)
			}
			if len(f.rec.calls) != 0 {
				t.Errorf("the module ran despite the error")
			}
		})
	}
}

func TestLostConnectionRedials(t *testing.T) {
	tests := []struct {
		name       string
		retries    string
		wantStatus Status
		wantDials  int
	}{
		{"retry on a fresh connection", "1", StatusOK, 2},
		{"no retries: the host fails", "0", StatusFailed, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := load(t, `
wave "w" {
  hosts = host.fe01
  task "probe" "a" {
    on        = "host"
    on_conn   = true
    lose_conn = 1
    retries   = `+tt.retries+`
  }
}
`)
			_, evs := f.run(t, t.Context(), Options{})
			if end := evs.of(HostTaskEnd)[0]; end.Status != tt.wantStatus {
				t.Errorf("status %s (%s), want %s", end.Status, end.Error, tt.wantStatus)
			}
			if got := f.rec.dials["fe01"]; got != tt.wantDials {
				t.Errorf("%d dials, want %d", got, tt.wantDials)
			}
			if got := f.rec.closes["fe01"]; got != tt.wantDials {
				t.Errorf("%d closes, want %d: every connection is closed once", got, tt.wantDials)
			}
		})
	}
}

func TestTaskStatus(t *testing.T) {
	tests := []struct {
		in   []Status
		want Status
	}{
		{nil, StatusSkipped},
		{[]Status{StatusSkipped, StatusSkipped}, StatusSkipped},
		{[]Status{StatusSkipped, StatusOK}, StatusOK},
		{[]Status{StatusOK, StatusChanged, StatusSkipped}, StatusChanged},
		{[]Status{StatusChanged, StatusFailed, StatusOK}, StatusFailed},
		{[]Status{StatusUnreachable, StatusFailed}, StatusUnreachable},
		{[]Status{"", StatusInterrupted, StatusOK}, StatusInterrupted},
	}
	for _, tt := range tests {
		if got := taskStatus(tt.in); got != tt.want {
			t.Errorf("taskStatus(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
