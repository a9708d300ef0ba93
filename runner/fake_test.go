package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/runner/playbook"
	"github.com/osrun/osrun/transports"
)

// testInventory is five hosts reached over the "local" transport, which
// the tests replace with a fake dialer.
const testInventory = `
host "ctl" {
  address   = "10.0.0.1"
  stack     = "j2ee"
  transport = "local"
  roles     = ["controller"]
}
host "fe01" {
  address   = "10.0.0.11"
  stack     = "j2ee"
  transport = "local"
  roles     = ["frontend"]
}
host "fe02" {
  address   = "10.0.0.12"
  stack     = "j2ee"
  transport = "local"
  roles     = ["frontend"]
}
host "fe03" {
  address   = "10.0.0.13"
  stack     = "dotnet"
  transport = "local"
  roles     = ["frontend"]
}
host "fe04" {
  address   = "10.0.0.14"
  stack     = "dotnet"
  transport = "local"
  roles     = ["frontend"]
}
group "web" {
  hosts = [host.fe01, host.fe02, host.fe03, host.fe04]
}
`

// call is one Check or Apply the fake module saw.
type call struct {
	host, task, mode string
}

// recorder is shared by every action of a test run.
type recorder struct {
	mu        sync.Mutex
	calls     []call
	attempts  map[string]int // by host+task
	active    int
	maxActive int
	cancel    context.CancelFunc // for the cancel argument

	dials  map[string]int
	closes map[string]int

	// world is what tracked tasks did, by host/name: the value of their
	// output argument. It survives a simulated crash; the calls do not.
	world map[string]string
}

func newRecorder() *recorder {
	return &recorder{attempts: map[string]int{}, dials: map[string]int{}, closes: map[string]int{}, world: map[string]string{}}
}

func (r *recorder) tasksOn(host string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.calls {
		if c.host == host {
			out = append(out, c.task)
		}
	}
	return out
}

// probe is the fake module. Its arguments script what it does.
func (r *recorder) definition() *modules.Definition {
	return &modules.Definition{
		Name: "probe",
		Params: []modules.Param{
			{Name: "fail", Type: cty.Bool, Default: cty.False},
			{Name: "panic", Type: cty.Bool, Default: cty.False},
			{Name: "changed", Type: cty.Bool, Default: cty.False},
			{Name: "sleep", Type: cty.String},                            // how long the call takes (synctest time)
			{Name: "fail_times", Type: cty.Number},                       // fail the first n attempts on a host
			{Name: "refuse", Type: cty.Bool, Default: cty.False},         // fail with an error that stops the run (an approval refused)
			{Name: "wait", Type: cty.Bool},                               // block until the context ends
			{Name: "cancel", Type: cty.Bool},                             // cancel the run's context, then wait
			{Name: "progress", Type: cty.String},                         // report this progress line
			{Name: "output", Type: cty.Map(cty.String)},                  // Result.Output
			{Name: "on_conn", Type: cty.Bool},                            // run a command over the connection
			{Name: "lose_conn", Type: cty.Number},                        // the first n attempts on a host lose the connection
			{Name: "name", Type: cty.String, Default: cty.StringVal("")}, // recorded task label
			{Name: "track", Type: cty.Bool, Default: cty.False},          // an idempotent change to the world: Check reads it, Apply makes it
			{Name: "upgrades", Type: cty.Bool, Default: cty.False},       // declares Effect.Upgrades, like the installer
		},
		DefaultOn: modules.OnControl,
		Effects: func(args modules.Args) modules.Effect {
			return modules.Effect{Upgrades: args.Bool("upgrades")}
		},
		New: func(args modules.Args) (modules.Action, error) {
			sleep, err := args.Duration("sleep")
			if err != nil {
				return nil, err
			}
			a := &probeAction{rec: r, args: args, sleep: sleep}
			return a, nil
		},
	}
}

type probeAction struct {
	rec   *recorder
	args  modules.Args
	sleep time.Duration
}

func (a *probeAction) Check(ctx context.Context, env *modules.Env) (modules.Result, error) {
	return a.do(ctx, env, "check")
}

func (a *probeAction) Apply(ctx context.Context, env *modules.Env) (modules.Result, error) {
	return a.do(ctx, env, "apply")
}

func (a *probeAction) do(ctx context.Context, env *modules.Env, mode string) (modules.Result, error) {
	r := a.rec
	task := a.args.String("name")
	r.mu.Lock()
	r.calls = append(r.calls, call{env.Host.Name, task, mode})
	key := env.Host.Name + "/" + task
	r.attempts[key]++
	attempt := r.attempts[key]
	r.active++
	r.maxActive = max(r.maxActive, r.active)
	cancel := r.cancel
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.active--
		r.mu.Unlock()
	}()

	if a.args.Bool("panic") {
		panic("probe: deliberate panic")
	}
	if p := a.args.String("progress"); p != "" {
		env.Progress(p)
	}
	if a.args.Bool("on_conn") {
		if env.Conn == nil {
			return modules.Result{}, errors.New("no connection")
		}
		if attempt <= a.args.Int("lose_conn") {
			return modules.Result{}, fmt.Errorf("run probe: %w", transports.ErrConnectionLost)
		}
		if err := env.Conn.Run(ctx, &transports.Cmd{Command: "probe"}); err != nil {
			return modules.Result{}, err
		}
	}
	if a.sleep > 0 {
		time.Sleep(a.sleep)
	}
	if a.args.Bool("cancel") {
		cancel()
	}
	if a.args.Bool("wait") || a.args.Bool("cancel") {
		<-ctx.Done()
		return modules.Result{}, fmt.Errorf("waiting: %w", ctx.Err())
	}
	if a.args.Bool("refuse") {
		return modules.Result{}, fmt.Errorf("gate x: %w", refusal{})
	}
	if a.args.Bool("fail") || attempt <= a.args.Int("fail_times") {
		return modules.Result{}, fmt.Errorf("probe failed on attempt %d", attempt)
	}
	out := map[string]cty.Value{"attempt": cty.NumberIntVal(int64(attempt))}
	if a.args.Has("output") {
		for k, v := range a.args["output"].AsValueMap() {
			out[k] = v
		}
	}
	changed := a.args.Bool("changed")
	if a.args.Bool("track") {
		want := worldValue(a.args)
		r.mu.Lock()
		changed = r.world[key] != want
		if mode == "apply" {
			r.world[key] = want
		}
		r.mu.Unlock()
	}
	return modules.Result{Changed: changed, Msg: mode, Output: out}, nil
}

// worldValue is what a tracked task leaves in the world: its output
// argument, so a task fed a wrong or missing earlier output shows.
func worldValue(args modules.Args) string {
	if !args.Has("output") {
		return "done"
	}
	m := args["output"].AsValueMap()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s;", k, m[k].AsString())
	}
	return b.String()
}

// fakeConn counts what goes over a connection.
type fakeConn struct {
	rec  *recorder
	host string
}

func (c *fakeConn) Run(ctx context.Context, cmd *transports.Cmd) error { return ctx.Err() }
func (c *fakeConn) Upload(ctx context.Context, u transports.Upload) error {
	return ctx.Err()
}
func (c *fakeConn) Shell() string { return "sh" }
func (c *fakeConn) Close() error {
	c.rec.mu.Lock()
	defer c.rec.mu.Unlock()
	c.rec.closes[c.host]++
	return nil
}

// dialer fails for the hosts in unreachable.
func (r *recorder) dialer(unreachable ...string) Dialer {
	return DialerFunc(func(ctx context.Context, h *inventory.Host) (transports.Conn, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.dials[h.Name]++
		for _, u := range unreachable {
			if u == h.Name {
				return nil, fmt.Errorf("dial %s: %w", h.Address, transports.ErrUnreachable)
			}
		}
		return &fakeConn{rec: r, host: h.Name}, nil
	})
}

// events collects a run's events; the runner never emits concurrently.
type events []Event

func (e *events) Emit(ev Event) { *e = append(*e, ev) }

func (e events) of(kinds ...Kind) []Event {
	var out []Event
	for _, ev := range e {
		for _, k := range kinds {
			if ev.Kind == k {
				out = append(out, ev)
			}
		}
	}
	return out
}

// fixture is a decoded playbook with its inventory and recorder.
type fixture struct {
	pb  *playbook.Playbook
	inv *inventory.Inventory
	rec *recorder
}

func load(t *testing.T, src string) *fixture {
	t.Helper()
	return loadWith(t, testInventory, src)
}

func loadWith(t *testing.T, invSrc, src string) *fixture {
	t.Helper()
	return loadProbe(t, invSrc, src, nil)
}

// loadProbe loads src over invSrc with the recorder's probe module, which
// adapt (when not nil) may change first.
func loadProbe(t *testing.T, invSrc, src string, adapt func(*modules.Definition)) *fixture {
	t.Helper()
	dir := t.TempDir()
	parser := hclparse.NewParser()
	invPath := filepath.Join(dir, "inventory.hcl")
	pbPath := filepath.Join(dir, "playbook.hcl")
	if err := os.WriteFile(invPath, []byte(invSrc), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pbPath, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	inv, diags := inventory.Load(parser, invPath)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	rec := newRecorder()
	def := rec.definition()
	if adapt != nil {
		adapt(def)
	}
	reg, err := modules.NewRegistry(def)
	if err != nil {
		t.Fatal(err)
	}
	f, diags := playbook.Parse(parser, pbPath)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	pb, diags := f.Decode(inv, reg, nil, nil)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return &fixture{pb: pb, inv: inv, rec: rec}
}

// run runs the fixture with opts completed by a fake dialer and an event
// collector.
func (f *fixture) run(t *testing.T, ctx context.Context, opts Options) (*Recap, events) {
	t.Helper()
	var evs events
	opts.Sink = &evs
	if opts.Dialers == nil {
		opts.Dialers = map[string]Dialer{"local": f.rec.dialer()}
	}
	recap, err := Run(ctx, f.pb, f.inv, opts)
	if err != nil {
		t.Fatal(err)
	}
	return recap, evs
}

func (r *Recap) host(name string) HostRecap {
	for _, h := range r.Hosts {
		if h.Host == name {
			return h
		}
	}
	return HostRecap{}
}

// refusal is an error that stops the run, as an approval refused does.
type refusal struct{}

func (refusal) Error() string  { return "denied by the operator" }
func (refusal) StopsRun() bool { return true }
