package runner

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// onFailurePlaybook drains every web host, then upgrades them; the
// upgrade task is the %s placeholder, which each case scripts. The
// on_failure waves put back in rotation only the hosts the run took out.
const onFailurePlaybook = `
wave "drain" {
  hosts = group.web
  task "probe" "out" {
    name    = "out"
    changed = host.name != "fe04"
  }
}
wave "upgrade" {
  hosts  = group.web
  serial = 2
  task "probe" "install" {
    name = "install"
    %s
  }
}
on_failure "restore_rotation" {
  hosts = group.web
  task "probe" "back_in" {
    name = "back_in"
    when = task.probe.out.changed
    %s
  }
}
on_failure "reenable" {
  hosts = host.ctl
  task "probe" "enable" { name = "enable" }
}
`

func TestOnFailure(t *testing.T) {
	tests := []struct {
		name      string
		install   string // the upgrade task's scripted arguments
		restore   string // the restore task's
		opts      Options
		cancel    bool // the install task on fe01 cancels the run
		outcome   Outcome
		onFailure Outcome // "" when the on_failure waves must not run
		restored  []string
	}{
		{name: "success", outcome: OutcomeSuccess},
		{name: "failures within the budget", install: `fail = host.name == "fe03"`, opts: Options{}, outcome: OutcomeFailed},
		{
			name: "budget exceeded", install: `fail = host.name == "fe01"`,
			outcome: OutcomeBudgetExceeded, onFailure: OutcomeSuccess,
			restored: []string{"fe01/back_in", "fe02/back_in", "fe03/back_in", "ctl/enable"},
		},
		{
			name: "interrupted", install: `cancel = host.name == "fe01"`, cancel: true,
			outcome: OutcomeInterrupted, onFailure: OutcomeSuccess,
			restored: []string{"fe01/back_in", "fe02/back_in", "fe03/back_in", "ctl/enable"},
		},
		{
			name: "a failing restore stops the restore and nothing else", install: `fail = true`, restore: `fail = host.name == "fe02"`,
			outcome: OutcomeBudgetExceeded, onFailure: OutcomeBudgetExceeded,
			restored: []string{"fe01/back_in", "fe02/back_in", "fe03/back_in"},
		},
		{name: "check mode skips them", install: `fail = true`, opts: Options{Check: true}, outcome: OutcomeBudgetExceeded},
		{
			name: "check mode rehearses them when asked", install: `fail = true`, opts: Options{Check: true, CheckOnFailure: true},
			outcome: OutcomeBudgetExceeded, onFailure: OutcomeSuccess,
			restored: []string{"fe01/back_in", "fe02/back_in", "fe03/back_in", "ctl/enable"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pb := strings.Replace(onFailurePlaybook, "%s", tt.install, 1)
			pb = strings.Replace(pb, "%s", tt.restore, 1)
			if tt.outcome == OutcomeFailed {
				pb = strings.Replace(pb, `serial = 2`, "serial = 2\n  max_fail_percentage = 50", 1)
			}
			f := load(t, pb)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			f.rec.cancel = cancel
			recap, evs := f.run(t, ctx, tt.opts)
			if recap.Outcome != tt.outcome {
				t.Fatalf("outcome %s, want %s", recap.Outcome, tt.outcome)
			}
			var restored []string
			for _, c := range f.rec.calls {
				if c.task == "back_in" || c.task == "enable" {
					restored = append(restored, c.host+"/"+c.task)
				}
			}
			// Hosts of a batch run in parallel: compare each wave's calls
			// as a set, and the waves in order.
			if i := slices.Index(restored, "ctl/enable"); i >= 0 && i != len(restored)-1 {
				t.Errorf("reenable ran before restore_rotation ended: %v", restored)
			}
			slices.Sort(restored)
			want := slices.Sorted(slices.Values(tt.restored))
			if !slices.Equal(restored, want) {
				t.Errorf("restore calls %v, want %v", restored, want)
			}
			if tt.onFailure == "" {
				if recap.OnFailure != nil || len(evs.of(WaveStart)) > 2 {
					t.Errorf("on_failure waves ran: %+v", recap.OnFailure)
				}
				return
			}
			if recap.OnFailure == nil || recap.OnFailure.Outcome != tt.onFailure {
				t.Fatalf("on_failure recap %+v, want %s", recap.OnFailure, tt.onFailure)
			}
			// Every event of the restore is marked, none before it is, and
			// the run's end still says what stopped it.
			seen := false
			for _, e := range evs {
				if e.Kind == WaveStart && e.Wave == "restore_rotation" {
					seen = true
				}
				if e.Kind == RunEnd {
					if e.OnFailure || e.Msg != string(tt.outcome) {
						t.Errorf("run end %+v", e)
					}
					continue
				}
				if e.OnFailure != seen {
					t.Errorf("%s %s %s: on_failure=%v", e.Kind, e.Wave, e.Host, e.OnFailure)
				}
			}
			// The restore's counts are its own; the run's are untouched.
			if got := recap.host("fe01"); got.Skipped+got.OK+got.Changed+got.Failed+got.Interrupted > 2 {
				t.Errorf("fe01 run recap counts restore tasks: %+v", got)
			}
			for _, h := range recap.OnFailure.Hosts {
				if h.Host == "fe04" && h.Skipped != 1 {
					t.Errorf("fe04 was never taken out, its restore must be skipped: %+v", h)
				}
			}
		})
	}
}

// TestOnFailureBounded: a restore that hangs is cut short by its time
// bound, or sooner by a hard stop, and the run still ends.
func TestOnFailureBounded(t *testing.T) {
	tests := []struct {
		name string
		hard bool
		took time.Duration
	}{
		{"time bound", false, 90 * time.Second},
		{"hard stop", true, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := load(t, strings.Replace(strings.Replace(onFailurePlaybook, "%s", `fail = true`, 1), "%s", `wait = true`, 1))
				hard, stop := context.WithCancel(t.Context())
				defer stop()
				opts := Options{OnFailureTimeout: 90 * time.Second}
				if tt.hard {
					opts.HardStop = hard
					time.AfterFunc(5*time.Second, stop)
				}
				start := time.Now()
				recap, _ := f.run(t, t.Context(), opts)
				if recap.Outcome != OutcomeBudgetExceeded || recap.OnFailure == nil || recap.OnFailure.Outcome != OutcomeInterrupted {
					t.Fatalf("outcome %s, on_failure %+v", recap.Outcome, recap.OnFailure)
				}
				if took := time.Since(start); took != tt.took {
					t.Errorf("the restore took %s, want %s", took, tt.took)
				}
				if recap.OnFailure.StoppedAt != "reenable" && recap.OnFailure.StoppedAt != "restore_rotation" {
					t.Errorf("stopped at %q", recap.OnFailure.StoppedAt)
				}
			})
		})
	}
}

// TestInterruptLetsUpgradesFinish: the first interrupt (ctx) cancels
// ordinary tasks at once but lets an upgrade run on; only the hard stop
// cancels it. Nothing new starts either way.
func TestInterruptLetsUpgradesFinish(t *testing.T) {
	tests := []struct {
		name     string
		args     string
		hard     bool
		took     time.Duration // until the task ended
		status   Status
		progress bool // the host's line says the upgrade goes on
	}{
		{"ordinary task", `wait = true`, true, 10 * time.Second, StatusInterrupted, false},
		{"upgrade cut by the hard stop", `upgrades = true` + "\n" + `wait = true`, true, 50 * time.Second, StatusInterrupted, true},
		{"upgrade that finishes", `upgrades = true` + "\n" + `sleep = "30s"`, true, 30 * time.Second, StatusOK, true},
		{"upgrade, no hard stop", `upgrades = true` + "\n" + `sleep = "30s"`, false, 30 * time.Second, StatusOK, true},
		{"a failed upgrade is not tried again", `upgrades = true` + "\n" + `sleep = "30s"` + "\n" + `fail = true` + "\n" + `retries = 3`, true, 30 * time.Second, StatusInterrupted, true},
		{"check mode is not shielded", `upgrades = true` + "\n" + `wait = true` + "\n" + `check_mode = true`, true, 10 * time.Second, StatusInterrupted, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := load(t, `
wave "upgrade" {
  hosts = host.fe01
  task "probe" "install" {
    name = "install"
    `+tt.args+`
  }
  task "probe" "after" { name = "after" }
}
`)
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				hard, stop := context.WithCancel(t.Context())
				defer stop()
				time.AfterFunc(10*time.Second, cancel)
				time.AfterFunc(50*time.Second, stop)
				opts := Options{}
				if tt.hard {
					opts.HardStop = hard
				}
				start := time.Now()
				recap, evs := f.run(t, ctx, opts)
				if recap.Outcome != OutcomeInterrupted {
					t.Fatalf("outcome %s", recap.Outcome)
				}
				ends := evs.of(HostTaskEnd)
				if len(ends) != 1 || ends[0].Status != tt.status {
					t.Fatalf("host task ends %+v, want one %s", ends, tt.status)
				}
				if took := ends[0].Time.Sub(start); took != tt.took {
					t.Errorf("the task ended after %s, want %s", took, tt.took)
				}
				if n := len(f.rec.calls); n != 1 {
					t.Errorf("%d calls, want 1: nothing starts after the interrupt", n)
				}
				said := slices.ContainsFunc(evs.of(Progress), func(e Event) bool { return strings.Contains(e.Msg, "letting the upgrade finish") })
				if said != tt.progress {
					t.Errorf("progress line about the upgrade: %v, want %v", said, tt.progress)
				}
			})
		})
	}
}

// cancelOn forwards events and cancels the run when one matches.
type cancelOn struct {
	events
	match  func(Event) bool
	cancel context.CancelFunc
}

func (c *cancelOn) Emit(e Event) {
	c.events.Emit(e)
	if c.match(e) {
		c.cancel()
	}
}

// An upgrade the interrupt reached just as it began (its start reported,
// the module not yet called) did nothing: the journal says interrupted, so
// a resume runs it, but on_failure waves read it as not run (skipped), so a
// restore that puts back the front-ends whose installer did not run puts
// this one back too. No line claims the upgrade is being let finish.
func TestInterruptedBeforeItBeganReadsAsNotRun(t *testing.T) {
	f := load(t, `
wave "upgrade" {
  hosts = host.fe01
  task "probe" "install" {
    name     = "install"
    upgrades = true
  }
}
on_failure "restore" {
  hosts = host.fe01
  task "probe" "back" {
    name = "back"
    when = task.probe.install.status == "skipped"
  }
}
`)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sink := &cancelOn{cancel: cancel, match: func(e Event) bool { return e.Kind == HostTaskStart && e.Task == "probe.install" }}
	recap, err := Run(ctx, f.pb, f.inv, Options{Sink: sink, Dialers: map[string]Dialer{"local": f.rec.dialer()}})
	if err != nil {
		t.Fatal(err)
	}
	if recap.Outcome != OutcomeInterrupted {
		t.Fatalf("outcome %s", recap.Outcome)
	}
	var ends []string
	for _, e := range sink.of(HostTaskEnd) {
		ends = append(ends, e.Task+" "+string(e.Status))
	}
	if want := []string{"probe.install interrupted", "probe.back ok"}; !slices.Equal(ends, want) {
		t.Errorf("step ends %v, want %v", ends, want)
	}
	var called []string
	for _, c := range f.rec.calls {
		called = append(called, c.task)
	}
	if !slices.Equal(called, []string{"back"}) {
		t.Errorf("module calls %v, want only the restore's", called)
	}
	if slices.ContainsFunc(sink.of(Progress), func(e Event) bool { return strings.Contains(e.Msg, "letting the upgrade finish") }) {
		t.Error("a line says the upgrade is let finish, but it never began")
	}
}
