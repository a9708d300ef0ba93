package runner

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
)

// livePlaybook takes the web hosts out of rotation and their deployment
// off, upgrades them, checks their health, and puts them back. Each task
// is a tracked probe, so the world is the live farm: Check reports a
// change when the world differs from what the task makes it. The probes
// named "rot" share one piece of the world, the rotation. %s are extra
// arguments of probe.out, for the cases that script it.
const livePlaybook = `
wave "out" {
  hosts = group.web
  task "probe" "out" {
    label    = "out"
    name     = "rot"
    track    = true
    rotation = "out"
    output   = { state = "out" }
    %s
  }
  task "probe" "disable" {
    label    = "disable"
    name       = "dep"
    track      = true
    deployment = "disabled"
    output     = { state = "disabled" }
  }
}
wave "upgrade" {
  hosts = group.web
  task "probe" "install" {
    label    = "install"
    name     = "ver"
    track    = true
    upgrades = true
    output   = { v = "11.31" }
  }
  task "probe" "health" {
    label    = "health"
    name  = "health"
    track = true
  }
}
wave "in" {
  hosts = group.web
  task "probe" "in" {
    label    = "in"
    name     = "rot"
    track    = true
    rotation = "in"
    output   = { state = "in" }
  }
  task "probe" "after" {
    label    = "after"
    name   = "after"
    output = { from = try(task.probe.out.from, "none") }
  }
}
`

// TestResumeRereadsLiveState: on resume, the last finished step of each
// kind of effect on a host (rotation, deployment, upgrade) is checked
// against the live farm before it is trusted; the rest of the record is
// replayed without a call.
func TestResumeRereadsLiveState(t *testing.T) {
	web := []string{"fe01", "fe02", "fe03", "fe04"}
	tests := []struct {
		name string
		args string // extra arguments of probe.out in the resumed run
		// record keeps the first run's steps it returns true for.
		record func(wave, host string) bool
		drift  map[string]string // world changes since the first run ("" deletes)
		// undone marks every recorded step as one the first run's
		// on_failure waves may have undone.
		undone bool
		check  bool
		// calls are the module calls of the resumed run by host/task, for
		// every web host unless the key names one.
		calls   map[string][]string
		outcome Outcome
		events  func(t *testing.T, evs events)
	}{
		{
			name:   "a front-end put back in rotation is drained again",
			record: without("in"),
			drift:  map[string]string{"fe02/rot": "state=in;"},
			calls: map[string][]string{
				"out": {"check"}, "fe02/out": {"check", "apply"}, "disable": {"check"}, "install": {"check"},
				"in": {"apply"}, "after": {"apply"},
			},
			outcome: OutcomeSuccess,
			events: func(t *testing.T, evs events) {
				end := hostEnd(t, evs, "fe02", "probe.out")
				if end.Status != StatusChanged || end.ResumedFrom != "" ||
					end.Msg != "done in run first, but the live state differs: check: apply" {
					t.Errorf("fe02 end %+v, want changed and why", end)
				}
				if !slices.ContainsFunc(evs.of(Progress), func(e Event) bool {
					return e.Host == "fe02" && e.Msg == "done in run first, but the live state differs: check; applying"
				}) {
					t.Errorf("no progress line says why fe02 is drained again")
				}
			},
		},
		{
			name:   "another version installed is installed again",
			record: without("in"),
			drift:  map[string]string{"fe03/ver": "v=11.20;"},
			calls: map[string][]string{
				"out": {"check"}, "disable": {"check"}, "install": {"check"}, "fe03/install": {"check", "apply"},
				"in": {"apply"}, "after": {"apply"},
			},
			outcome: OutcomeSuccess,
		},
		{
			name: "a step a later finished step undid is not re-read",
			// The first run put fe01-fe03 back in and crashed before fe04.
			record: func(wave, host string) bool { return wave != "in" || host != "fe04" },
			drift:  map[string]string{"fe04/rot": "state=out;"},
			calls: map[string][]string{
				"out": nil, "fe04/out": {"check"}, "disable": {"check"}, "install": {"check"},
				"in": {"check"}, "fe04/in": {"apply"}, "fe04/after": {"apply"},
			},
			outcome: OutcomeSuccess,
		},
		{
			name:   "the live state confirmed: the record is replayed",
			record: without("in"),
			calls:  map[string][]string{"out": {"check"}, "disable": {"check"}, "install": {"check"}, "in": {"apply"}, "after": {"apply"}},
			events: func(t *testing.T, evs events) {
				for _, h := range web {
					end := hostEnd(t, evs, h, "probe.out")
					if end.Status != StatusChanged || end.ResumedFrom != "first" || end.Msg != "done in run first; live state confirmed: apply" ||
						!bytes.Contains(end.Output, []byte(`"from":"journal"`)) {
						t.Errorf("%s: replayed step %+v, want the record's status and output", h, end)
					}
					if after := hostEnd(t, evs, h, "probe.after"); !bytes.Contains(after.Output, []byte(`"from":"journal"`)) {
						t.Errorf("%s: a later task read %s, not the recorded output", h, after.Output)
					}
				}
			},
			outcome: OutcomeSuccess,
		},
		{
			name:   "a re-read that fails fails the step",
			args:   `fail = host.name == "fe02"`,
			record: without("in"),
			calls:  map[string][]string{"out": {"check"}, "disable": {"check"}, "fe02/disable": nil},
			events: func(t *testing.T, evs events) {
				end := hostEnd(t, evs, "fe02", "probe.out")
				if end.Status != StatusFailed || !strings.Contains(end.Error, "done in run first, but its live state cannot be read: probe failed") {
					t.Errorf("fe02 end %+v, want a failure that says why", end)
				}
			},
			outcome: OutcomeBudgetExceeded,
		},
		{
			name:   "a re-read that fails is tried again as the task's retries allow",
			args:   "fail_times = host.name == \"fe02\" ? 1 : 0\n    retries = 2\n    delay = \"1ms\"",
			record: without("in"),
			calls: map[string][]string{
				"out": {"check"}, "fe02/out": {"check", "check"}, "disable": {"check"}, "install": {"check"},
				"in": {"apply"}, "after": {"apply"},
			},
			outcome: OutcomeSuccess,
			events: func(t *testing.T, evs events) {
				if end := hostEnd(t, evs, "fe02", "probe.out"); end.ResumedFrom != "first" || end.Status != StatusChanged {
					t.Errorf("fe02 end %+v, want the record replayed once the state was read", end)
				}
				if !slices.ContainsFunc(evs.of(Progress), func(e Event) bool {
					return e.Host == "fe02" && e.Msg == "reading the live state again in 1ms (attempt 2 of 3): probe failed on attempt 1"
				}) {
					t.Errorf("no progress line says the live state is read again")
				}
			},
		},
		{
			name:    "a re-read that keeps failing fails the step after its retries",
			args:    "fail_times = host.name == \"fe02\" ? 5 : 0\n    retries = 1\n    delay = \"1ms\"",
			record:  without("in"),
			calls:   map[string][]string{"out": {"check"}, "fe02/out": {"check", "check"}, "disable": {"check"}, "fe02/disable": nil},
			outcome: OutcomeBudgetExceeded,
			events: func(t *testing.T, evs events) {
				end := hostEnd(t, evs, "fe02", "probe.out")
				if end.Status != StatusFailed || !strings.Contains(end.Error, "cannot be read after 2 attempts: probe failed on attempt 2") {
					t.Errorf("fe02 end %+v, want a failure after two reads", end)
				}
			},
		},
		{
			name:   "steps without effects are replayed without a call",
			record: func(string, string) bool { return true },
			calls:  map[string][]string{"disable": {"check"}, "install": {"check"}, "in": {"check"}},
			events: func(t *testing.T, evs events) {
				for _, task := range []string{"probe.health", "probe.after"} {
					if end := hostEnd(t, evs, "fe01", task); end.ResumedFrom != "first" || end.Msg != "done in run first: apply" {
						t.Errorf("%s: %+v, want a plain replay", task, end)
					}
				}
			},
			outcome: OutcomeSuccess,
		},
		{
			name:   "a condition now false replays the record",
			args:   `when = host.name != "fe03"`,
			record: without("in"),
			drift:  map[string]string{"fe03/rot": "state=in;"},
			calls: map[string][]string{
				"out": {"check"}, "fe03/out": nil, "disable": {"check"}, "install": {"check"},
				"in": {"apply"}, "after": {"apply"},
			},
			events: func(t *testing.T, evs events) {
				if end := hostEnd(t, evs, "fe03", "probe.out"); end.ResumedFrom != "first" || end.Msg != "done in run first: apply" {
					t.Errorf("fe03: %+v, want a plain replay", end)
				}
			},
			outcome: OutcomeSuccess,
		},
		{
			// The first run finished the upgrade, then failed later and its
			// restore ran: the drain was undone by the run's own "back in
			// rotation", which is what is re-read. Draining again would take
			// upgraded, serving front-ends out of rotation.
			name:   "after a restore, a drain a later finished step undid is not redone",
			record: func(string, string) bool { return true },
			undone: true,
			drift:  map[string]string{"fe02/rot": "state=out;"},
			calls: map[string][]string{
				"out": nil, "disable": {"check"}, "install": {"check"}, "health": {"check"},
				"in": {"check"}, "fe02/in": {"check", "apply"}, "after": {"check"},
			},
			outcome: OutcomeSuccess,
			events: func(t *testing.T, evs events) {
				for _, h := range web {
					if end := hostEnd(t, evs, h, "probe.out"); end.ResumedFrom != "first" || end.Status != StatusChanged {
						t.Errorf("%s probe.out %+v, want the record replayed", h, end)
					}
				}
				if end := hostEnd(t, evs, "fe02", "probe.in"); end.Status != StatusChanged || !strings.Contains(end.Msg, "live state differs") {
					t.Errorf("fe02 probe.in %+v, want put back in rotation, and why", end)
				}
			},
		},
		{
			name:   "check mode only predicts",
			record: without("in"),
			drift:  map[string]string{"fe02/rot": "state=in;"},
			check:  true,
			calls:  map[string][]string{"out": {"check"}, "disable": {"check"}, "install": {"check"}, "in": {"check"}, "after": {"check"}},
			events: func(t *testing.T, evs events) {
				end := hostEnd(t, evs, "fe02", "probe.out")
				if end.Status != StatusChanged || end.Msg != "done in run first, but the live state differs: check: check" {
					t.Errorf("fe02 end %+v, want the prediction and why", end)
				}
			},
			outcome: OutcomeSuccess,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, _ := loadLive(t, fmt3(livePlaybook, ""))
			_, evs := first.run(t, t.Context(), Options{RunID: "first"})
			rec := recordOf(evs, "first", tt.record)
			if tt.undone {
				for k, p := range rec {
					p.Undone = "run first's on_failure waves may have undone it"
					rec[k] = p
				}
			}
			world := worldOf(evs, tt.record)
			for k, v := range tt.drift {
				if v == "" {
					delete(world, k)
				} else {
					world[k] = v
				}
			}

			f, calls := loadLive(t, fmt3(livePlaybook, tt.args))
			f.rec.world = world
			recap, evs := f.run(t, t.Context(), Options{RunID: "second", Resume: rec, Check: tt.check})
			if recap.Outcome != tt.outcome {
				t.Errorf("outcome %s, want %s: %+v", recap.Outcome, tt.outcome, recap.Hosts)
			}
			got := calls.calls
			if got == nil {
				got = map[string][]string{}
			}
			want := map[string][]string{}
			for k, modes := range tt.calls {
				if !strings.Contains(k, "/") {
					for _, h := range web {
						if _, own := tt.calls[h+"/"+k]; !own && modes != nil {
							want[h+"/"+k] = modes
						}
					}
				}
			}
			for k, modes := range tt.calls {
				if strings.Contains(k, "/") && modes != nil {
					want[k] = modes
				}
			}
			if !maps.EqualFunc(got, want, slices.Equal) {
				t.Errorf("calls\n%v\nwant\n%v", got, want)
			}
			if tt.events != nil {
				tt.events(t, evs)
			}
		})
	}
}

// TestRereadChoosesLastOfEachKind pins which finished steps are re-read,
// whatever the order the hosts run in.
func TestRereadChoosesLastOfEachKind(t *testing.T) {
	f, _ := loadLive(t, fmt3(livePlaybook, ""))
	_, evs := f.run(t, t.Context(), Options{RunID: "first"})
	rec := recordOf(evs, "first", func(wave, host string) bool { return wave != "in" || host == "fe01" })
	r := &run{pb: f.pb, inv: f.inv, opts: Options{Resume: rec}, hosts: map[*inventory.Host]*hostState{}}
	r.opts.Log = slog.New(slog.DiscardHandler)
	if err := r.prepare(); err != nil {
		t.Fatal(err)
	}
	got, _ := r.toReread()
	want := map[stepKey]bool{
		{"in", "probe.in", "fe01"}: true,
	}
	for _, h := range []string{"fe01", "fe02", "fe03", "fe04"} {
		want[stepKey{"out", "probe.disable", h}] = true
		want[stepKey{"upgrade", "probe.install", h}] = true
		if h != "fe01" {
			want[stepKey{"out", "probe.out", h}] = true
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("re-read\n%v\nwant\n%v", got, want)
	}
}

// without keeps the steps of every wave but one.
func without(wave string) func(wave, host string) bool {
	return func(w, _ string) bool { return w != wave }
}

func fmt3(src, args string) string { return strings.Replace(src, "%s", args, 1) }

// record is an earlier run's record, made from its events as a journal
// would be.
type record map[stepKey]PriorStep

func (r record) Prior(wave, task, host string) (PriorStep, bool) {
	p, ok := r[stepKey{wave, task, host}]
	return p, ok
}

// recordOf records the steps of evs that keep accepts. The recorded
// output of probe.out carries from = "journal", so a test can tell the
// record's outputs from a new call's.
func recordOf(evs events, runID string, keep func(wave, host string) bool) record {
	rec := record{}
	for _, e := range evs.of(HostTaskEnd) {
		if !keep(e.Wave, e.Host) {
			continue
		}
		out := e.Output
		if e.Task == "probe.out" {
			m, err := decodeOutput(out)
			if err != nil {
				panic(err)
			}
			m["from"] = cty.StringVal("journal")
			if out, err = encodeOutput(m); err != nil {
				panic(err)
			}
		}
		rec[stepKey{e.Wave, e.Task, e.Host}] = PriorStep{Status: e.Status, Msg: e.Msg, Output: out, RunID: runID}
	}
	return rec
}

// worldOf is the live farm the steps of evs that keep accepts leave: a
// crash stopped the run after them.
func worldOf(evs events, keep func(wave, host string) bool) map[string]string {
	made := map[string][2]string{ // what each tracked task makes: world key, value
		"probe.out":     {"rot", "state=out;"},
		"probe.disable": {"dep", "state=disabled;"},
		"probe.install": {"ver", "v=11.31;"},
		"probe.health":  {"health", "done"},
		"probe.in":      {"rot", "state=in;"},
	}
	world := map[string]string{}
	for _, e := range evs.of(HostTaskEnd) {
		if m, tracked := made[e.Task]; tracked && keep(e.Wave, e.Host) {
			world[e.Host+"/"+m[0]] = m[1]
		}
	}
	return world
}

func hostEnd(t *testing.T, evs events, host, task string) Event {
	t.Helper()
	for _, e := range evs.of(HostTaskEnd) {
		if e.Host == host && e.Task == task {
			return e
		}
	}
	t.Fatalf("no end of %s on %s", task, host)
	return Event{}
}

// callLog lists the calls of a loadLive fixture by "host/label": the
// probe's own record is by world key, which tasks share.
type callLog struct {
	mu    sync.Mutex
	calls map[string][]string
}

type labelled struct {
	modules.Action
	label string
	log   *callLog
}

func (l *labelled) Check(ctx context.Context, env *modules.Env) (modules.Result, error) {
	l.log.add(env.Host.Name+"/"+l.label, "check")
	return l.Action.Check(ctx, env)
}

func (l *labelled) Apply(ctx context.Context, env *modules.Env) (modules.Result, error) {
	l.log.add(env.Host.Name+"/"+l.label, "apply")
	return l.Action.Apply(ctx, env)
}

func (c *callLog) add(key, mode string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string][]string{}
	}
	c.calls[key] = append(c.calls[key], mode)
}

// loadLive is load with a probe that declares the rotation and deployment
// effects its arguments name, and whose calls are logged by its label.
func loadLive(t *testing.T, src string) (*fixture, *callLog) {
	t.Helper()
	log := &callLog{}
	f := loadProbe(t, testInventory, src, func(def *modules.Definition) {
		def.Params = append(slices.Clone(def.Params),
			modules.Param{Name: "rotation", Type: cty.String, Default: cty.StringVal("")},
			modules.Param{Name: "deployment", Type: cty.String, Default: cty.StringVal("")},
			modules.Param{Name: "label", Type: cty.String, Default: cty.StringVal("")})
		newProbe := def.New
		def.New = func(args modules.Args) (modules.Action, error) {
			a, err := newProbe(args)
			return &labelled{Action: a, label: args.String("label"), log: log}, err
		}
		def.Effects = func(args modules.Args) modules.Effect {
			return modules.Effect{
				Rotation:   modules.Rotation(args.String("rotation")),
				Deployment: modules.Deployment(args.String("deployment")),
				Upgrades:   args.Bool("upgrades"),
			}
		}
	})
	return f, log
}

// TestRereadStopsAtUnknownEffect: a finished step whose effect cannot be
// told now hides the steps before it on the host, rather than leaving an
// earlier one to be re-applied on a guess; later steps are still re-read.
func TestRereadStopsAtUnknownEffect(t *testing.T) {
	const pb = `
wave "a" {
  hosts = host.fe01
  task "probe" "out" {
    rotation = "out"
  }
  task "probe" "odd" {
    rotation = %s
  }
  task "probe" "install" {
    upgrades = true
  }
}
`
	first, _ := loadLive(t, strings.Replace(pb, "%s", `"in"`, 1))
	_, evs := first.run(t, t.Context(), Options{RunID: "first"})
	rec := recordOf(evs, "first", func(string, string) bool { return true })

	f, _ := loadLive(t, strings.Replace(pb, "%s", "task.probe.out.output.nope", 1))
	r := &run{pb: f.pb, inv: f.inv, opts: Options{Resume: rec, Log: slog.New(slog.DiscardHandler)}, hosts: map[*inventory.Host]*hostState{}}
	if err := r.prepare(); err != nil {
		t.Fatal(err)
	}
	want := map[stepKey]bool{{"a", "probe.install", "fe01"}: true}
	if got, _ := r.toReread(); !maps.Equal(got, want) {
		t.Errorf("re-read %v, want %v", got, want)
	}
}
