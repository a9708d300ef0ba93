package waitdeployer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/approval"
	"github.com/osrun/osrun/modules/scfrontend/scapi"
)

// Options configure the module for the whole run.
type Options struct {
	// Gate obtains the operator's confirmation for the manual driver.
	Gate approval.Gate
	// Transport replaces the HTTP transport built from the settings (tests).
	Transport http.RoundTripper
}

// Definition returns the wait_deployer module.
func Definition(opts Options) *modules.Definition {
	return &modules.Definition{
		Name:    "wait_deployer",
		Summary: "Wait until a front-end's Deployment Service threads are all sleeping",
		Doc: `Waits until Service Center shows every Deployment Service thread of the host's
front-end as Sleeping (or Idle) and the service running, continuously for the stable
period: the deployment of applications to that front-end has then finished and it can
take traffic again. Progress shows "7/8 threads sleeping"; on timeout the error lists
the last states seen. A 401, 403 or 404 answer fails at once; other failed polls are
retried until the timeout and reported with it.

With driver "http" it polls the contract in modules/scfrontend/CONTRACT.md. With
driver "manual" it asks the operator to watch Monitoring » Environment Health and
confirm through the gate "wait_deployer.<host>". It changes nothing, so it always
reports no change; check mode reads and reports the current thread states once.
Runs on the control machine.`,
		DefaultOn: modules.OnControl,
		Params: []modules.Param{
			{Name: "stable", Type: cty.String, Default: cty.StringVal("10s"),
				Doc: "How long all threads must stay asleep before the deployment counts as finished."},
			// Not "timeout": that meta-argument bounds each attempt of any task.
			{Name: "wait_timeout", Type: cty.String, Default: cty.StringVal("30m"),
				Doc: "How long to wait in all (or for the operator, with the manual driver)."},
			{Name: "poll_interval", Type: cty.String, Default: cty.StringVal("2s"),
				Doc: "How often to read the thread states."},
			{Name: "frontend", Type: cty.String,
				Doc: "The front-end's name in Service Center; the host's name by default."},
			{Name: "service_center", Type: cty.String,
				Doc: "The service_center block to use; by default the one of the host's zone."},
		},
		Example: `wave "deployment_finished_on_loaded" {
  hosts = group.loaded

  task "wait_deployer" "threads_sleeping" {
    stable       = "30s"
    wait_timeout = "45m"
  }
}`,
		New: func(args modules.Args) (modules.Action, error) {
			a := &action{opts: opts, operator: scapi.Operator{Gate: opts.Gate}, frontend: args.String("frontend"), sc: args.String("service_center")}
			for _, d := range []struct {
				name string
				into *time.Duration
			}{{"stable", &a.stable}, {"wait_timeout", &a.timeout}, {"poll_interval", &a.poll}} {
				v, err := args.Duration(d.name)
				if err != nil {
					return nil, err
				}
				if v < 0 || v == 0 && d.name != "stable" {
					return nil, fmt.Errorf("argument %s: must be positive", d.name)
				}
				*d.into = v
			}
			return a, nil
		},
	}
}

type action struct {
	opts                  Options
	frontend, sc          string
	stable, timeout, poll time.Duration

	operator scapi.Operator // remembers the hosts confirmed in this run
}

func (a *action) open(env *modules.Env) (scapi.Target, error) {
	return scapi.Open(env.Inventory, env.Host, a.frontend, a.sc, scapi.Options{Transport: a.opts.Transport})
}

func output(d scapi.Deployer) map[string]cty.Value {
	return map[string]cty.Value{
		"threads":  cty.NumberIntVal(int64(len(d.Threads))),
		"sleeping": cty.NumberIntVal(int64(d.Asleep)),
		"running":  cty.BoolVal(d.Running),
	}
}

// Check reports the current thread states once.
func (a *action) Check(ctx context.Context, env *modules.Env) (modules.Result, error) {
	t, err := a.open(env)
	if err != nil {
		return modules.Result{}, err
	}
	defer t.Close()
	if t.Manual != nil {
		return modules.Result{Msg: fmt.Sprintf("would ask the operator to confirm that the Deployment Service of %s has finished (manual driver)", t.Name)}, nil
	}
	d, err := t.Client.Deployer(ctx, t.Name)
	if err != nil {
		return modules.Result{}, fmt.Errorf("read Deployment Service threads of %s: %w", t.Name, err)
	}
	msg := fmt.Sprintf("%s: %s now; apply waits until all sleep for %s", t.Name, d, a.stable)
	return modules.Result{Msg: msg, Output: output(d)}, nil
}

// Apply waits until the deployment has finished.
func (a *action) Apply(ctx context.Context, env *modules.Env) (modules.Result, error) {
	t, err := a.open(env)
	if err != nil {
		return modules.Result{}, err
	}
	defer t.Close()
	if t.Manual != nil {
		return a.applyManual(ctx, env, t)
	}
	return a.wait(ctx, env, t)
}

// fatal reports answers that waiting will not change.
func fatal(err error) bool {
	var se *scapi.StatusError
	return errors.As(err, &se) && (se.Status == http.StatusUnauthorized || se.Status == http.StatusForbidden || se.Status == http.StatusNotFound)
}

func (a *action) wait(ctx context.Context, env *modules.Env, t scapi.Target) (modules.Result, error) {
	progress := env.Progress
	if progress == nil {
		progress = func(string) {}
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	tick := time.NewTicker(a.poll)
	defer tick.Stop()
	var (
		last    scapi.Deployer
		seen    bool      // last holds an answer
		lastErr error     // the latest poll failed with this
		asleep  time.Time // when all threads were first seen asleep; zero if not
	)
	for {
		d, err := t.Client.Deployer(ctx, t.Name)
		switch {
		case err != nil && fatal(err):
			return modules.Result{}, fmt.Errorf("read Deployment Service threads of %s: %w", t.Name, err)
		case err != nil && ctx.Err() == nil:
			lastErr = err
			progress(fmt.Sprintf("%s: reading threads failed, retrying: %v", t.Name, err))
		case err == nil:
			last, seen, lastErr = d, true, nil
			now := time.Now()
			if !d.Done() {
				asleep = time.Time{}
			} else if asleep.IsZero() {
				asleep = now
			}
			if !asleep.IsZero() && now.Sub(asleep) >= a.stable {
				return modules.Result{
					Msg: fmt.Sprintf("all %d Deployment Service threads of %s sleeping for %s (waited %s)",
						len(d.Threads), t.Name, a.stable, now.Sub(start).Round(time.Second)),
					Output: output(d),
				}, nil
			}
			progress(fmt.Sprintf("%s: %s", t.Name, d))
		}
		select {
		case <-ctx.Done():
			return modules.Result{}, a.timedOut(ctx, t, last, seen, lastErr)
		case <-tick.C:
		}
	}
}

func (a *action) timedOut(ctx context.Context, t scapi.Target, last scapi.Deployer, seen bool, lastErr error) error {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("wait for the Deployment Service of %s: %w", t.Name, ctx.Err())
	}
	what := "never read"
	if seen {
		what = "last seen " + last.String()
		if all := threadList(last); all != "" {
			what += "; threads " + all
		}
	}
	err := fmt.Errorf("wait for the Deployment Service of %s: not finished after %s: %s", t.Name, a.timeout, what)
	if lastErr != nil {
		err = fmt.Errorf("%w; last poll failed: %w", err, lastErr)
	}
	return err
}

func threadList(d scapi.Deployer) string {
	var s string
	for i, th := range d.Threads {
		if i > 0 {
			s += ", "
		}
		s += th.ID + " " + th.Status
	}
	return s
}

func (a *action) applyManual(ctx context.Context, env *modules.Env, t scapi.Target) (modules.Result, error) {
	if a.operator.Confirmed(env.Host.Name) {
		return modules.Result{Msg: fmt.Sprintf("the operator already confirmed that the Deployment Service of %s has finished", t.Name)}, nil
	}
	instructions := fmt.Sprintf(`Service Center » Monitoring » Environment Health » %[1]s » Deployment (details)

Service Center has no API for the Deployment Service's threads; please watch them:
  1. %[2]s
  2. Go to Monitoring » Environment Health ("Platform Monitoring" in older versions).
  3. Click the detail link of the Deployment service of %[1]s.
  4. Wait until the status of all its threads is Sleeping, then confirm.
The deployment of applications to %[1]s has then finished.`, t.Name, t.Manual.Instructions())
	if err := a.operator.Confirm(ctx, env.Host.Name, "wait_deployer."+env.Host.Name, instructions, a.timeout); err != nil {
		return modules.Result{}, fmt.Errorf("wait for the Deployment Service of %s: %w", t.Name, err)
	}
	return modules.Result{Msg: fmt.Sprintf("the operator confirmed that the Deployment Service of %s has finished", t.Name)}, nil
}
