package service

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/hostscript"
)

//go:embed scripts
var scriptFS embed.FS

var scripts = hostscript.MustParse(scriptFS, "scripts/*")

// Options tune the module for its caller.
type Options struct {
	// Poll is how often the state is read while waiting for it; 2s when zero.
	Poll time.Duration
	// DefaultTimeout bounds a task whose context has no deadline (the task
	// set no timeout meta-argument); 5m when zero.
	DefaultTimeout time.Duration
}

// Definition returns the service module.
func Definition(opts Options) *modules.Definition {
	if opts.Poll <= 0 {
		opts.Poll = 2 * time.Second
	}
	if opts.DefaultTimeout <= 0 {
		opts.DefaultTimeout = 5 * time.Minute
	}
	return &modules.Definition{
		Name:    "service",
		Summary: "Bring an OutSystems or OS service to a state (and, on Windows, a startup type).",
		Doc: `Logical names map to the platform's services: deployer, controller, scheduler, log and
sms are "OutSystems Deployment Service", "OutSystems Deployment Controller Service",
"OutSystems Scheduler Service", "OutSystems Log Service" and "OutSystems SMS Connector
Service" on Windows; on J2EE deployer, controller and scheduler are the DEPLOYER,
CONTROLLER and SCHEDULER sub-services of "service outsystems" (run as root through
become). Any other name is a raw Windows service name or SysV service.

After asking for a change the module polls the service until it reports the state; the
task's timeout meta-argument (5m when not set) bounds the wait, and the error then names
the last state seen. "restarted" always changes the service
(stop, wait, start, wait), so it is never idempotent. "startup" is Windows only: J2EE
has no documented non-interactive way (serviceconfigurator.sh is interactive).`,
		Params: []modules.Param{
			{Name: "name", Type: cty.String, Required: true,
				Doc: "deployer, controller, scheduler, log, sms, or a raw service name."},
			{Name: "state", Type: cty.String, OneOf: []string{"running", "stopped", "restarted"},
				Doc: "The state to reach."},
			{Name: "startup", Type: cty.String, OneOf: []string{"automatic", "manual", "disabled"},
				Doc: "The Windows startup type to set (set before the state is changed)."},
		},
		DefaultOn: modules.OnHost,
		// Stopping an OutSystems service leaves IIS or the application server
		// serving (the balanced deployment guide stops the Scheduler on
		// front-ends in rotation); any other service may be the web server.
		Effects: func(args modules.Args) modules.Effect {
			switch args.String("state") {
			case "stopped", "restarted":
				if !isOutSystems(args.String("name")) {
					return modules.Effect{Disruptive: true}
				}
			}
			return modules.Effect{}
		},
		Example: `task "service" "start_deployer" {
  name    = "deployer"
  state   = "running"
  startup = "automatic"
}`,
		New: func(args modules.Args) (modules.Action, error) {
			a := &action{
				name:    strings.TrimSpace(args.String("name")),
				state:   args.String("state"),
				startup: args.String("startup"),
				poll:    opts.Poll,
				timeout: opts.DefaultTimeout,
			}
			if a.name == "" {
				return nil, errors.New("argument name: must not be empty")
			}
			if a.state == "" && a.startup == "" {
				return nil, errors.New("give state, startup or both")
			}
			return a, nil
		},
	}
}

// The states the module works with, whatever words the host uses.
const (
	running  = "running"
	stopped  = "stopped"
	starting = "starting"
	stopping = "stopping"
	disabled = "disabled" // J2EE: disabled at boot, cannot be started
	paused   = "paused"
	missing  = "missing"
	unknown  = "unknown"
)

// status is one reading of a service.
type status struct {
	state   string
	raw     string // the host's own word, for messages: StartPending, RUNNING
	startup string // Windows only: Automatic, Manual, Disabled, ...
}

// settled is where a service in transition is heading.
func (s status) settled() string {
	switch s.state {
	case starting:
		return running
	case stopping:
		return stopped
	}
	return s.state
}

// backend drives one service on one kind of host.
type backend interface {
	read(ctx context.Context) (status, error)
	start(ctx context.Context) error
	stop(ctx context.Context) error
	// setStartup sets the startup type; startup is automatic, manual or disabled.
	setStartup(ctx context.Context, startup string) error
	// canSetStartup returns nil, or why startup cannot be set here.
	canSetStartup() error
	// reportsTransitions says whether the service shows a pending state
	// from the moment a change is asked for (the Windows SCM does), so that
	// seeing the old state again means the change failed. A SysV script
	// may return before its daemon shows any change.
	reportsTransitions() bool
	label() string
}

type action struct {
	name    string
	state   string
	startup string
	timeout time.Duration // when the context has no deadline
	poll    time.Duration
}

func (a *action) backend(env *modules.Env) (backend, error) {
	if env.Conn == nil {
		return nil, errors.New("service runs on the host: no connection")
	}
	switch env.Conn.Shell() {
	case "powershell":
		return newWindows(env.Conn, a.name)
	case "sh":
		return newSysV(env.Conn, a.name)
	}
	return nil, fmt.Errorf("service: unsupported shell %q", env.Conn.Shell())
}

// plan is what Apply will do to a service found in a given status.
type plan struct {
	setStartup bool
	stop       bool // before start, for restarted
	start      bool
	msgs       []string
}

func (a *action) plan(b backend, st status) (plan, error) {
	var p plan
	if st.state == missing {
		return p, fmt.Errorf("%s: no such service", b.label())
	}
	if a.startup != "" {
		if err := b.canSetStartup(); err != nil {
			return p, err
		}
		if !strings.EqualFold(st.startup, a.startup) {
			p.setStartup = true
			p.msgs = append(p.msgs, fmt.Sprintf("set startup %s → %s", st.startup, a.startup))
		}
	}
	if a.state == "" {
		return p, nil
	}
	now := st.settled()
	switch {
	case now == disabled && a.state != stopped:
		return p, fmt.Errorf("%s is %s: it cannot be started until it is enabled at boot (serviceconfigurator.sh)", b.label(), st.raw)
	case now == paused || now == unknown:
		return p, fmt.Errorf("%s is %s, which osrun does not handle", b.label(), st.raw)
	}
	switch a.state {
	case running:
		p.start = now == stopped
	case stopped:
		p.stop = now == running
	case "restarted":
		p.stop = now == running
		p.start = true
	}
	startup := st.startup
	if a.startup != "" {
		startup = a.startup
	}
	if p.start && strings.EqualFold(startup, "disabled") {
		return p, fmt.Errorf("%s has startup type Disabled, so it cannot be started: give startup = \"automatic\" or \"manual\"", b.label())
	}
	switch {
	case p.stop && p.start:
		p.msgs = append(p.msgs, "restart")
	case p.start:
		p.msgs = append(p.msgs, "start")
	case p.stop:
		p.msgs = append(p.msgs, "stop")
	}
	return p, nil
}

func (p plan) changed() bool { return p.setStartup || p.start || p.stop }

func (a *action) Check(ctx context.Context, env *modules.Env) (modules.Result, error) {
	b, err := a.backend(env)
	if err != nil {
		return modules.Result{}, err
	}
	st, err := b.read(ctx)
	if err != nil {
		return modules.Result{}, err
	}
	p, err := a.plan(b, st)
	if err != nil {
		return modules.Result{}, err
	}
	res := modules.Result{Changed: p.changed(), Output: output(st)}
	if p.changed() {
		res.Msg = fmt.Sprintf("would %s %s (now %s)", strings.Join(p.msgs, " and "), b.label(), describe(st))
	} else {
		res.Msg = fmt.Sprintf("%s is %s", b.label(), describe(st))
	}
	return res, nil
}

func (a *action) Apply(ctx context.Context, env *modules.Env) (modules.Result, error) {
	b, err := a.backend(env)
	if err != nil {
		return modules.Result{}, err
	}
	progress := env.Progress
	if progress == nil {
		progress = func(string) {}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.timeout)
		defer cancel()
	}
	w := &waiter{b: b, poll: a.poll, begin: time.Now(), progress: progress}

	st, err := b.read(ctx)
	if err != nil {
		return modules.Result{}, w.explain(ctx, err)
	}
	// A service already on its way somewhere is let arrive before deciding.
	if st.state == starting || st.state == stopping || st.state == unknown {
		if st, err = w.until(ctx, func(s status) bool {
			return s.state != starting && s.state != stopping && s.state != unknown
		}, "a steady state"); err != nil {
			return modules.Result{}, err
		}
	}
	p, err := a.plan(b, st)
	if err != nil {
		return modules.Result{}, err
	}
	if p.setStartup {
		if err := b.setStartup(ctx, a.startup); err != nil {
			return modules.Result{}, w.explain(ctx, err)
		}
	}
	if p.stop {
		if err := b.stop(ctx); err != nil {
			return modules.Result{}, w.explain(ctx, err)
		}
		if st, err = w.reach(ctx, stopped); err != nil {
			return modules.Result{}, err
		}
	}
	if p.start {
		if err := b.start(ctx); err != nil {
			return modules.Result{}, w.explain(ctx, err)
		}
		if st, err = w.reach(ctx, running); err != nil {
			return modules.Result{}, err
		}
	}
	if p.setStartup && !p.start && !p.stop {
		if st, err = b.read(ctx); err != nil {
			return modules.Result{}, w.explain(ctx, err)
		}
	}
	res := modules.Result{Changed: p.changed(), Output: output(st)}
	if p.changed() {
		res.Msg = fmt.Sprintf("%s: %s (now %s)", b.label(), strings.Join(p.msgs, " and "), describe(st))
	} else {
		res.Msg = fmt.Sprintf("%s is %s", b.label(), describe(st))
	}
	return res, nil
}

func describe(st status) string {
	if st.startup == "" {
		return st.raw
	}
	return st.raw + ", startup " + st.startup
}

func output(st status) map[string]cty.Value {
	return map[string]cty.Value{
		"state":   cty.StringVal(st.state),
		"status":  cty.StringVal(st.raw),
		"startup": cty.StringVal(st.startup),
	}
}

// waiter polls a service until it reports a state, within the context's
// deadline, reporting each reading as progress.
type waiter struct {
	b        backend
	poll     time.Duration
	begin    time.Time
	progress func(string)
	last     status
}

// reach waits until the service is in state want. Where the host reports
// transitions, seeing it settled in another state three readings in a row
// means the change failed (a service that stopped again right after
// starting), so that fails early rather than at the timeout.
func (w *waiter) reach(ctx context.Context, want string) (status, error) {
	against := 0
	return w.until(ctx, func(s status) bool {
		if s.state == want {
			return true
		}
		if s.state != starting && s.state != stopping && s.state != unknown {
			against++
		}
		return false
	}, want, func(s status) error {
		if against >= 3 && w.b.reportsTransitions() {
			return fmt.Errorf("%s is %s again after being asked to be %s", w.b.label(), s.raw, want)
		}
		return nil
	})
}

func (w *waiter) until(ctx context.Context, done func(status) bool, what string, give ...func(status) error) (status, error) {
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return w.last, w.explain(ctx, ctx.Err())
		case <-timer.C:
		}
		st, err := w.b.read(ctx)
		if err != nil {
			return w.last, w.explain(ctx, err)
		}
		w.last = st
		if done(st) {
			return st, nil
		}
		for _, g := range give {
			if err := g(st); err != nil {
				return st, err
			}
		}
		w.progress(fmt.Sprintf("%s: %s, waiting for %s (%s)", w.b.label(), st.raw, what, time.Since(start).Round(time.Second)))
		timer.Reset(w.poll)
	}
}

// explain turns an error seen once the deadline passed into one that says
// so and shows the last state seen; other errors pass.
func (w *waiter) explain(ctx context.Context, err error) error {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return err
	}
	last := "nothing"
	if w.last.raw != "" {
		last = w.last.raw
	}
	return fmt.Errorf("%s: timed out after %s; last seen %s: %w", w.b.label(), time.Since(w.begin).Round(time.Second), last, ctx.Err())
}

// isOutSystems reports whether name is one of the platform's own services,
// by logical or Windows name.
func isOutSystems(name string) bool {
	name = strings.ToLower(strings.TrimSpace(name))
	if _, ok := windowsNames[name]; ok {
		return true
	}
	for _, n := range windowsNames {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}
