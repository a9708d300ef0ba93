package runner

import (
	"context"
	"maps"
	"path/filepath"
	"testing"
)

// The fake harness, for the tests of package runner_test: they use
// runner/journal, which imports runner, so they cannot live in package
// runner.

type Fixture = fixture

// Call is one Check or Apply the fake module saw.
type Call struct{ Host, Task, Mode string }

func Load(t *testing.T, src string) *Fixture { return load(t, src) }

// Paths are the playbook's and the inventory's files.
func (f *fixture) Paths() (playbook, inventory string) {
	return f.pb.Filename, filepath.Join(filepath.Dir(f.pb.Filename), "inventory.hcl")
}

// Run runs the fixture, sending the events to opts.Sink too.
func (f *fixture) Run(t *testing.T, ctx context.Context, opts Options) (*Recap, []Event) {
	t.Helper()
	var evs events
	if opts.Sink != nil {
		also := opts.Sink
		opts.Sink = SinkFunc(func(e Event) { evs.Emit(e); also.Emit(e) })
	} else {
		opts.Sink = &evs
	}
	opts.Dialers = map[string]Dialer{"local": f.rec.dialer()}
	recap, err := Run(ctx, f.pb, f.inv, opts)
	if err != nil {
		t.Fatal(err)
	}
	return recap, evs
}

// World is a copy of what tracked tasks did, by "host/name".
func (f *fixture) World() map[string]string {
	f.rec.mu.Lock()
	defer f.rec.mu.Unlock()
	return maps.Clone(f.rec.world)
}

// Restart sets the world as a crash left it and forgets the calls.
func (f *fixture) Restart(world map[string]string) {
	rec := newRecorder()
	rec.world = maps.Clone(world)
	f.rec.mu.Lock()
	defer f.rec.mu.Unlock()
	f.rec.calls, f.rec.attempts, f.rec.world = nil, rec.attempts, rec.world
}

// Calls lists the module calls since the last Restart.
func (f *fixture) Calls() []Call {
	f.rec.mu.Lock()
	defer f.rec.mu.Unlock()
	out := make([]Call, len(f.rec.calls))
	for i, c := range f.rec.calls {
		out[i] = Call{c.host, c.task, c.mode}
	}
	return out
}
