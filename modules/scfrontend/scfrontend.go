package scfrontend

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
	// Gate obtains the operator's approval for the manual driver; without
	// one, a manual step fails instead of waiting.
	Gate approval.Gate
	// Transport replaces the HTTP transport built from the settings (tests).
	Transport http.RoundTripper
	// PollInterval is how often Apply re-reads the state until Service
	// Center shows the change; 2s when zero.
	PollInterval time.Duration
}

// Definition returns the sc_frontend module.
func Definition(opts Options) *modules.Definition {
	if opts.PollInterval <= 0 {
		opts.PollInterval = 2 * time.Second
	}
	return &modules.Definition{
		Name:    "sc_frontend",
		Summary: "Enable or disable deployment to a front-end in Service Center",
		Doc: `Sets whether Service Center deploys applications to the host's front-end
(Administration » Servers » <front-end> » Disable / Enable). The balanced upgrade
disables it on the loaded front-ends before the controller is upgraded, so they
keep running the applications their platform can run, and enables it again once
they run the new platform.

Service Center has no public API for this. With a service_center block whose
driver is "http", the module calls the contract in modules/scfrontend/CONTRACT.md
(or an organisation's integration, reshaped by settings): check mode reads the
current state and reports what would change; apply sets it and reads it back until
Service Center shows it. With driver "manual", it prints exactly what to click and
waits for the operator's approval (terminal prompt, "osrun approve <run> <gate>"
from another shell, or --approve sc_frontend.disable given up front); the gate is
"sc_frontend.<enable|disable>.<host>". A timeout stops the run. Check mode cannot
read the state with the manual driver and reports the step as a change.
Runs on the control machine.`,
		DefaultOn: modules.OnControl,
		Params: []modules.Param{
			{Name: "deployment", Type: cty.String, Required: true, OneOf: []string{"enabled", "disabled"},
				Doc: "The state to reach: enabled (Service Center deploys to the front-end) or disabled."},
			{Name: "frontend", Type: cty.String,
				Doc: "The front-end's name in Service Center; the host's name by default."},
			{Name: "service_center", Type: cty.String,
				Doc: "The service_center block to use; by default the one of the host's zone."},
			// Not "timeout": that meta-argument bounds each attempt of any task.
			{Name: "wait_timeout", Type: cty.String, Default: cty.StringVal("30m"),
				Doc: "How long to wait for the operator (manual) or for Service Center to show the new state (http)."},
		},
		Example: `wave "disable_deployment_on_loaded" {
  hosts = group.loaded

  task "sc_frontend" "disable" {
    deployment   = "disabled"
    wait_timeout = "1h"
  }
}`,
		// The plan verifier proves loaded front-ends are disabled before the
		// controller is upgraded, and re-enabled only once they run it.
		Effects: func(args modules.Args) modules.Effect {
			if args.String("deployment") == "enabled" {
				return modules.Effect{Deployment: modules.DeploymentEnabled}
			}
			return modules.Effect{Deployment: modules.DeploymentDisabled}
		},
		New: func(args modules.Args) (modules.Action, error) {
			a := &action{opts: opts, operator: scapi.Operator{Gate: opts.Gate}, enable: args.String("deployment") == "enabled",
				frontend: args.String("frontend"), sc: args.String("service_center")}
			var err error
			if a.timeout, err = args.Duration("wait_timeout"); err != nil {
				return nil, err
			}
			if a.timeout <= 0 {
				return nil, errors.New("argument wait_timeout: must be positive")
			}
			return a, nil
		},
	}
}

type action struct {
	opts     Options
	enable   bool
	frontend string
	sc       string
	timeout  time.Duration

	// operator remembers manual steps approved in this run, so a second
	// Apply asks nobody and reports no change.
	operator scapi.Operator
}

func word(enabled bool) string {
	if enabled {
		return "enabled"
	}
	return "disabled"
}

func verb(enabled bool) string {
	if enabled {
		return "enable"
	}
	return "disable"
}

func (a *action) open(env *modules.Env) (scapi.Target, error) {
	return scapi.Open(env.Inventory, env.Host, a.frontend, a.sc, scapi.Options{Transport: a.opts.Transport})
}

func (a *action) result(changed bool, msg string, before bool) modules.Result {
	r := modules.Result{Changed: changed, Msg: msg,
		Output: map[string]cty.Value{"deployment": cty.StringVal(word(a.enable))}}
	if changed {
		r.Diff = fmt.Sprintf("- deployment = %q\n+ deployment = %q\n", word(before), word(a.enable))
	}
	return r
}

// Check reads the state (http) and says what Apply would do.
func (a *action) Check(ctx context.Context, env *modules.Env) (modules.Result, error) {
	t, err := a.open(env)
	if err != nil {
		return modules.Result{}, err
	}
	defer t.Close()
	if t.Manual != nil {
		if a.operator.Confirmed(env.Host.Name) {
			return modules.Result{Msg: fmt.Sprintf("the operator already confirmed deployment %s on %s", word(a.enable), t.Name)}, nil
		}
		return modules.Result{Changed: true,
			Msg: fmt.Sprintf("would ask the operator to %s deployment on %s in Service Center (manual driver: the state cannot be read)", verb(a.enable), t.Name)}, nil
	}
	on, err := t.Client.Deployment(ctx, t.Name)
	if err != nil {
		return modules.Result{}, fmt.Errorf("read deployment state of %s: %w", t.Name, err)
	}
	if on == a.enable {
		r := a.result(false, fmt.Sprintf("deployment already %s on %s", word(on), t.Name), on)
		return r, nil
	}
	return a.result(true, fmt.Sprintf("would %s deployment on %s", verb(a.enable), t.Name), on), nil
}

// Apply reaches the state: through the API (http) or the operator (manual).
func (a *action) Apply(ctx context.Context, env *modules.Env) (modules.Result, error) {
	t, err := a.open(env)
	if err != nil {
		return modules.Result{}, err
	}
	defer t.Close()
	if t.Manual != nil {
		return a.applyManual(ctx, env, t)
	}
	on, err := t.Client.Deployment(ctx, t.Name)
	if err != nil {
		return modules.Result{}, fmt.Errorf("read deployment state of %s: %w", t.Name, err)
	}
	if on == a.enable {
		return a.result(false, fmt.Sprintf("deployment already %s on %s", word(on), t.Name), on), nil
	}
	if err := t.Client.SetDeployment(ctx, t.Name, a.enable); err != nil {
		return modules.Result{}, fmt.Errorf("%s deployment on %s: %w", verb(a.enable), t.Name, err)
	}
	if err := a.verify(ctx, env, t); err != nil {
		return modules.Result{}, err
	}
	return a.result(true, fmt.Sprintf("deployment %s on %s (was %s)", word(a.enable), t.Name, word(on)), on), nil
}

// verify reads the state back until Service Center shows the change: an
// integration may apply it asynchronously, and the next step (upgrading
// the controller) must not start before it holds.
func (a *action) verify(ctx context.Context, env *modules.Env, t scapi.Target) error {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	tick := time.NewTicker(a.opts.PollInterval)
	defer tick.Stop()
	for {
		on, err := t.Client.Deployment(ctx, t.Name)
		if err == nil && on == a.enable {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("service center still shows deployment %s", word(on))
		}
		if env.Progress != nil {
			env.Progress(fmt.Sprintf("waiting for Service Center to show deployment %s on %s", word(a.enable), t.Name))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("verify deployment %s on %s after %s: %w", word(a.enable), t.Name, a.timeout, err)
		case <-tick.C:
		}
	}
}

func (a *action) applyManual(ctx context.Context, env *modules.Env, t scapi.Target) (modules.Result, error) {
	if a.operator.Confirmed(env.Host.Name) {
		return modules.Result{Msg: fmt.Sprintf("the operator already confirmed deployment %s on %s", word(a.enable), t.Name)}, nil
	}
	id := fmt.Sprintf("sc_frontend.%s.%s", verb(a.enable), env.Host.Name)
	if err := a.operator.Confirm(ctx, env.Host.Name, id, a.instructions(t), a.timeout); err != nil {
		return modules.Result{}, fmt.Errorf("%s deployment on %s: %w", verb(a.enable), t.Name, err)
	}
	return modules.Result{Changed: true, Msg: fmt.Sprintf("the operator confirmed deployment %s on %s", word(a.enable), t.Name),
		Output: map[string]cty.Value{"deployment": cty.StringVal(word(a.enable))}}, nil
}

func (a *action) instructions(t scapi.Target) string {
	button := "Disable"
	after := "Service Center no longer deploys applications to it."
	if a.enable {
		button = "Enable"
		after = "Service Center deploys applications to it again once its Deployment Service runs."
	}
	return fmt.Sprintf(`Service Center » Administration » Servers » %[1]s » %[2]s

Service Center has no API for this step; please do it by hand:
  1. %[3]s
  2. Go to Administration » Servers ("Front-end Servers" in older versions) and open %[1]s.
  3. Press %[2]s.
%[4]s`, t.Name, button, t.Manual.Instructions(), after)
}
