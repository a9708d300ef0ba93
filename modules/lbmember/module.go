package lbmember

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/lbmember/member"
)

// Options configure the module for the whole run.
type Options struct {
	// Drivers is the set of load-balancer drivers; nil means Builtin().
	Drivers *Registry
	// PollInterval is how often drains and health waits poll the balancer
	// when the task gives no poll_interval; zero means 2s.
	PollInterval time.Duration
}

const defaultPollInterval = 2 * time.Second

// Definition returns the lb_member module.
func Definition(opts Options) *modules.Definition {
	if opts.Drivers == nil {
		opts.Drivers = Builtin()
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = defaultPollInterval
	}
	m := &module{opts: opts, locks: map[string]*sync.Mutex{}, drivers: map[*inventory.Endpoint]Driver{}}
	return &modules.Definition{
		Name:    "lb_member",
		Summary: "Put a front-end into or out of its load-balancer pool",
		Doc: `Sets the host's membership of its zone's load-balancer pool. "drained" stops new
sessions; "disabled" drains first, waits until the member's sessions reach 0 (or
drain_timeout passes, then fails or forces per on_drain_timeout) and takes it out of
rotation; "enabled" puts it back and waits until the balancer's own health check
reports it up. It refuses to leave fewer than min_in_rotation enabled, healthy
members in the pool. Runs on the control machine and talks about the host's member
name (host.member, default the host name) in the load_balancer of the host's zone.

Drivers and their load_balancer settings (secrets only as env() or file()):
  haproxy     socket (unix path) or address (host:port of a TCP stats socket at
              "level admin"), backend, [timeout]. Member = server name.
  haproxy_dataplane  url (the Data Plane API base with its version, http://lb:5555/v2
              or /v3), backend, user, password, [ca_file, insecure, timeout].
  nginx_plus  url (the api location), upstream, [user, password, ca_file, insecure,
              timeout]. Member = the server as written in the upstream ("10.0.0.13:80").
  f5          url, pool, user, password, [partition (Common), auth (token|basic),
              ca_file, insecure, timeout]. Member = "10.0.0.13:80" or "/Common/fe03:80".
  netscaler   url, servicegroup, user, password, [drain_delay (1h), ca_file, insecure,
              timeout]. Member = "server:port", or "server" when bound once.
  windows_nlb address (a cluster node, reached over WinRM), user, password, [port,
              https (true), auth (ntlm|basic|certificate), client_cert, client_key,
              ca_file, insecure, timeout, interface, cluster, drain_timeout (10m)].
              Member = the node name Get-NlbClusterNode shows. NLB counts no
              sessions: "disabled" waits in Stop-NlbClusterNode -Drain for NLB's own
              drain, up to drain_timeout (whole minutes; then NLB stops the node and
              drops what is left); a drained node stops by itself when idle.
  command     enable, drain, disable, status, [members, kill, pool, timeout]: shell
              templates over {{.Member}} {{.State}} {{.Pool}}; status prints
              {"state":"drained","sessions":3,"healthy":true}, members an array of
              those with "name"; exit status 3 means no such member.

What "drained" and the session count mean is each balancer's own: HAProxy scur+qcur,
NGINX active, F5 serverside.curConns, NetScaler client/server connections. Sticky
clients keep arriving at a drained member on every one of them, hence drain_timeout.`,
		DefaultOn: modules.OnControl,
		Params: []modules.Param{
			{Name: "state", Type: cty.String, Required: true, OneOf: []string{"enabled", "drained", "disabled"},
				Doc: "The membership to reach: enabled (in rotation), drained (no new sessions) or disabled (out of rotation)."},
			{Name: "drain_timeout", Type: cty.String, Default: cty.StringVal("5m"),
				Doc: "How long going to disabled waits for the sessions to reach 0."},
			{Name: "on_drain_timeout", Type: cty.String, Default: cty.StringVal("fail"), OneOf: []string{"fail", "force"},
				Doc: "fail leaves the member drained and fails the task; force disables it and cuts the remaining sessions where the balancer can (elsewhere they stay open, and the result says so)."},
			{Name: "min_in_rotation", Type: cty.Number, Default: cty.NumberIntVal(1),
				Doc: "The fewest enabled, healthy members the pool may keep when this member leaves; 0 turns the guard off."},
			{Name: "health_timeout", Type: cty.String, Default: cty.StringVal("2m"),
				Doc: "How long enabling waits for the balancer's health check to report the member up."},
			{Name: "poll_interval", Type: cty.String,
				Doc: "How often to poll the balancer while draining or waiting for health (default 2s)."},
		},
		Example: `wave "drain_updating" {
  hosts = group.updating

  task "lb_member" "out" {
    timeout          = "15m" # longer than the drain
    state            = "disabled"
    drain_timeout    = "10m"
    on_drain_timeout = "force"
    min_in_rotation  = 1
  }
}

wave "back_in" {
  hosts = group.updating

  task "lb_member" "in" {
    state          = "enabled"
    health_timeout = "5m"
  }
}`,
		Effects: func(args modules.Args) modules.Effect {
			// Drained counts as out: it takes no new sessions, so the
			// plan verifier must not count it as serving.
			if args.String("state") == "enabled" {
				return modules.Effect{Rotation: modules.RotationIn}
			}
			return modules.Effect{Rotation: modules.RotationOut}
		},
		New: m.newAction,
	}
}

type module struct {
	opts Options

	mu      sync.Mutex
	locks   map[string]*sync.Mutex // per load balancer, see lock
	drivers map[*inventory.Endpoint]Driver
}

// driver opens each load balancer once per run and shares it between
// hosts (drivers are safe for concurrent use), so F5 logs in once, not once
// per host and task.
func (m *module) driver(ep *inventory.Endpoint) (Driver, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.drivers[ep]; ok {
		return d, nil
	}
	d, err := m.opts.Drivers.Open(ep)
	if err != nil {
		return nil, err
	}
	m.drivers[ep] = d
	return d, nil
}

// lock serialises the min_in_rotation guard and the state change per load
// balancer: two hosts leaving the same pool at once must not both see the
// other still in rotation.
func (m *module) lock(lb string) *sync.Mutex {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.locks[lb]
	if !ok {
		l = &sync.Mutex{}
		m.locks[lb] = l
	}
	return l
}

type action struct {
	m             *module
	want          member.State
	drainTimeout  time.Duration
	force         bool
	minInRotation int
	healthTimeout time.Duration
	poll          time.Duration
}

func (m *module) newAction(args modules.Args) (modules.Action, error) {
	want, err := member.Parse(args.String("state"))
	if err != nil {
		return nil, fmt.Errorf("argument state: %w", err)
	}
	a := &action{m: m, want: want, force: args.String("on_drain_timeout") == "force", poll: m.opts.PollInterval}
	if a.drainTimeout, err = args.Duration("drain_timeout"); err != nil {
		return nil, err
	}
	if a.healthTimeout, err = args.Duration("health_timeout"); err != nil {
		return nil, err
	}
	if args.Has("poll_interval") {
		if a.poll, err = args.Duration("poll_interval"); err != nil {
			return nil, err
		}
		if a.poll <= 0 {
			return nil, fmt.Errorf("argument poll_interval: must be positive")
		}
	}
	if a.minInRotation = args.Int("min_in_rotation"); a.minInRotation < 0 {
		return nil, fmt.Errorf("argument min_in_rotation: must not be negative")
	}
	if mode := args.String("on_drain_timeout"); mode != "fail" && mode != "force" {
		return nil, fmt.Errorf("argument on_drain_timeout: %q is not fail or force", mode)
	}
	return a, nil
}

// target is what one run of the action talks to.
type target struct {
	lb     *inventory.Endpoint
	driver Driver
	name   string // the member name
	log    *slog.Logger
}

// reread reads the member after a change, keeping the last reading if the
// read fails (the change itself succeeded; the error says the read did not).
func (t *target) reread(ctx context.Context, last member.Status) (member.Status, error) {
	st, err := t.driver.Status(ctx, t.name)
	if err != nil {
		return last, t.wrap(err)
	}
	return st, nil
}

// set changes the member's state and leaves an audit line: balancer
// changes are what an operator reconstructs after an incident.
func (t *target) set(ctx context.Context, st member.State) error {
	if err := t.driver.SetState(ctx, t.name, st); err != nil {
		return t.wrap(err)
	}
	t.log.Info("load balancer member changed", "load_balancer", t.lb.Name, "pool", t.driver.Pool(), "member", t.name, "state", st)
	return nil
}

func (a *action) open(env *modules.Env) (*target, error) {
	h := env.Host
	if h == nil || env.Inventory == nil {
		return nil, fmt.Errorf("lb_member needs a host and an inventory")
	}
	var zone *inventory.Zone
	for _, z := range env.Inventory.Zones {
		if z.Name == h.Zone {
			zone = z
		}
	}
	if zone == nil {
		return nil, fmt.Errorf("zone %q of host %s is not in the inventory", h.Zone, h.Name)
	}
	if zone.LoadBalancer == "" {
		return nil, fmt.Errorf("zone %s of host %s has no load_balancer", zone.Name, h.Name)
	}
	ep, ok := env.Inventory.LoadBalancers[zone.LoadBalancer]
	if !ok {
		return nil, fmt.Errorf("load balancer %s of zone %s is not in the inventory", zone.LoadBalancer, zone.Name)
	}
	d, err := a.m.driver(ep)
	if err != nil {
		return nil, err
	}
	name := h.Member
	if name == "" {
		name = h.Name
	}
	log := env.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &target{lb: ep, driver: d, name: name, log: log}, nil
}

func (t *target) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("load balancer %s: %w", t.lb.Name, err)
}

func output(st member.Status) map[string]cty.Value {
	return map[string]cty.Value{
		"state":    cty.StringVal(string(st.State)),
		"sessions": cty.NumberIntVal(int64(st.Sessions)),
	}
}

func sessions(n int) string {
	if n == 1 {
		return "1 session"
	}
	return fmt.Sprintf("%d sessions", n)
}

// Check reads the member and predicts what Apply would do.
func (a *action) Check(ctx context.Context, env *modules.Env) (modules.Result, error) {
	t, err := a.open(env)
	if err != nil {
		return modules.Result{}, err
	}
	st, err := t.driver.Status(ctx, t.name)
	if err != nil {
		return modules.Result{}, t.wrap(err)
	}
	res := modules.Result{Output: output(st)}
	if st.State == a.want {
		res.Msg = fmt.Sprintf("%s is already %s (%s)", t.name, st.State, sessions(st.Sessions))
		if a.want == member.Enabled && !st.Healthy {
			res.Msg += fmt.Sprintf("; would wait for its health check (now %s)", st.Detail)
		}
		return res, nil
	}
	if a.want != member.Enabled && st.InRotation() {
		if err := a.guard(ctx, t, st.Name); err != nil {
			return res, err
		}
	}
	res.Changed = true
	res.Diff = fmt.Sprintf("state: %s -> %s", st.State, a.want)
	switch {
	case a.want == member.Enabled:
		res.Msg = fmt.Sprintf("would enable %s (now %s) and wait for its health check", t.name, st.State)
	case a.want == member.Drained:
		res.Msg = fmt.Sprintf("would drain %s (%s)", t.name, sessions(st.Sessions))
	case st.State == member.Enabled:
		res.Msg = fmt.Sprintf("would drain %s (%s) and then disable it", t.name, sessions(st.Sessions))
	default:
		res.Msg = fmt.Sprintf("would disable %s (drained, %s left)", t.name, sessions(st.Sessions))
	}
	return res, nil
}

// guard refuses to take t's member out when that leaves the pool with
// fewer than min_in_rotation enabled, healthy members. self is the name the
// driver reported for the member, which may be more canonical than the
// inventory's ("/Common/10.0.0.13:80" versus "10.0.0.13:80").
func (a *action) guard(ctx context.Context, t *target, self string) error {
	if a.minInRotation == 0 {
		return nil
	}
	all, err := t.driver.Members(ctx)
	if err != nil {
		return t.wrap(err)
	}
	others := 0
	for _, m := range all {
		if m.Name != self && m.InRotation() {
			others++
		}
	}
	if others < a.minInRotation {
		return fmt.Errorf("load balancer %s: refusing to take %s out of %s: %d other member(s) would stay enabled and healthy, min_in_rotation is %d",
			t.lb.Name, t.name, t.driver.Pool(), others, a.minInRotation)
	}
	return nil
}

// Apply reaches the wanted state.
func (a *action) Apply(ctx context.Context, env *modules.Env) (modules.Result, error) {
	t, err := a.open(env)
	if err != nil {
		return modules.Result{}, err
	}
	progress := env.Progress
	if progress == nil {
		progress = func(string) {}
	}
	st, err := t.driver.Status(ctx, t.name)
	if err != nil {
		return modules.Result{}, t.wrap(err)
	}
	from := st.State
	res := modules.Result{}
	if st.State != a.want {
		res.Changed = true
		res.Diff = fmt.Sprintf("state: %s -> %s", from, a.want)
	}
	switch a.want {
	case member.Enabled:
		st, err = a.enable(ctx, t, st, progress)
	case member.Drained:
		st, err = a.leave(ctx, t, st, member.Drained)
	case member.Disabled:
		st, err = a.disable(ctx, t, st, progress, &res)
	}
	res.Output = output(st)
	if err != nil {
		return res, err
	}
	if res.Msg == "" {
		if res.Changed {
			res.Msg = fmt.Sprintf("%s %s -> %s (%s)", t.name, from, st.State, sessions(st.Sessions))
		} else {
			res.Msg = fmt.Sprintf("%s is already %s (%s)", t.name, st.State, sessions(st.Sessions))
		}
	}
	return res, nil
}

func (a *action) enable(ctx context.Context, t *target, st member.Status, progress func(string)) (member.Status, error) {
	if st.State != member.Enabled {
		if err := t.set(ctx, member.Enabled); err != nil {
			return st, err
		}
	}
	last := st
	err := poll(ctx, a.poll, a.healthTimeout, func() (bool, error) {
		cur, err := t.driver.Status(ctx, t.name)
		if err != nil {
			return false, t.wrap(err)
		}
		last = cur
		if last.Healthy && last.State == member.Enabled {
			return true, nil
		}
		progress(fmt.Sprintf("waiting for the health check of %s: %s", t.name, last.Detail))
		return false, nil
	})
	if errors.Is(err, errTimeout) {
		return last, fmt.Errorf("load balancer %s: %s is enabled but its health check did not report it up within %s (last seen %s)",
			t.lb.Name, t.name, a.healthTimeout, last.Detail)
	}
	if err != nil && ctx.Err() != nil {
		return last, fmt.Errorf("load balancer %s: stopped waiting for the health check of %s (last seen %s): %w",
			t.lb.Name, t.name, last.Detail, ctx.Err())
	}
	return last, err
}

// leave moves an enabled or drained member to to, behind the guard.
func (a *action) leave(ctx context.Context, t *target, st member.Status, to member.State) (member.Status, error) {
	if st.State == to {
		return st, nil
	}
	l := a.m.lock(t.lb.Name)
	l.Lock()
	defer l.Unlock()
	// Read again under the lock: another host may have left meanwhile.
	cur, err := t.driver.Status(ctx, t.name)
	if err != nil {
		return st, t.wrap(err)
	}
	st = cur
	if st.State == to {
		return st, nil
	}
	if st.InRotation() {
		if err := a.guard(ctx, t, st.Name); err != nil {
			return st, err
		}
	}
	if err := t.set(ctx, to); err != nil {
		return st, err
	}
	return t.reread(ctx, st)
}

func (a *action) disable(ctx context.Context, t *target, st member.Status, progress func(string), res *modules.Result) (member.Status, error) {
	if st.State == member.Disabled {
		return st, nil
	}
	if st.State == member.Enabled {
		var err error
		if st, err = a.leave(ctx, t, st, member.Drained); err != nil {
			return st, err
		}
	}
	start := time.Now()
	err := poll(ctx, a.poll, a.drainTimeout, func() (bool, error) {
		cur, err := t.driver.Status(ctx, t.name)
		if err != nil {
			return false, t.wrap(err)
		}
		st = cur
		if st.Sessions == 0 {
			return true, nil
		}
		progress(fmt.Sprintf("draining %s: %s left (%s of %s)", t.name, sessions(st.Sessions),
			time.Since(start).Round(time.Second), a.drainTimeout))
		return false, nil
	})
	left := st.Sessions
	switch {
	case errors.Is(err, errTimeout) && !a.force:
		return st, fmt.Errorf("load balancer %s: %s still has %s after drain_timeout %s; it stays drained (on_drain_timeout = \"force\" would disable it and cut them)",
			t.lb.Name, t.name, sessions(left), a.drainTimeout)
	case errors.Is(err, errTimeout):
		if err := t.set(ctx, member.Disabled); err != nil {
			return st, err
		}
		// Balancers that cannot cut sessions (NGINX, F5 forced offline)
		// still refuse new ones once disabled; say what was left running.
		killer, ok := t.driver.(SessionKiller)
		err := member.ErrUnsupported
		if ok {
			err = killer.KillSessions(ctx, t.name)
		}
		switch {
		case errors.Is(err, member.ErrUnsupported):
			res.Msg = fmt.Sprintf("%s disabled after drain_timeout %s with %s still open (%s cannot cut sessions)",
				t.name, a.drainTimeout, sessions(left), t.driver.Pool())
		case err != nil:
			return st, t.wrap(err)
		default:
			res.Msg = fmt.Sprintf("%s disabled after drain_timeout %s; cut %s", t.name, a.drainTimeout, sessions(left))
		}
	case err != nil && ctx.Err() != nil:
		// Cancelled or the task's timeout: say where the drain stood.
		return st, fmt.Errorf("load balancer %s: stopped waiting for %s to drain (%s left; it stays drained): %w",
			t.lb.Name, t.name, sessions(left), ctx.Err())
	case err != nil:
		return st, err
	default:
		if err := t.set(ctx, member.Disabled); err != nil {
			return st, err
		}
	}
	return t.reread(ctx, st)
}

var errTimeout = errors.New("timed out")

// poll calls fn now and then every interval until it reports done, fails,
// ctx ends or timeout passes (errTimeout). fn always runs at least once.
func poll(ctx context.Context, interval, timeout time.Duration, fn func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		done, err := fn()
		if err != nil || done {
			return err
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return errTimeout
		}
		t := time.NewTimer(min(interval, wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
