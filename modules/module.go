package modules

import (
	"context"
	"fmt"
	"log/slog"
	"sort"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/transports"
)

// Where says which machine a task acts from.
type Where string

const (
	// OnHost runs the task over the host's own transport (SSH or WinRM).
	OnHost Where = "host"
	// OnControl runs the task on the machine running osrun, for API calls to
	// the load balancer or Service Center about the host.
	OnControl Where = "control"
)

// Param is one argument a module accepts.
type Param struct {
	Name     string
	Type     cty.Type
	Required bool
	Default  cty.Value // cty.NilVal when there is none
	Doc      string
	// Secret parameters accept only env() or file() references, never literals.
	Secret bool
	// OneOf restricts a string parameter to these values.
	OneOf []string
}

// Definition describes a module. It is plain data plus a constructor so the
// loader, the runner and the documentation all read the same source.
type Definition struct {
	Name      string
	Summary   string
	Doc       string
	Params    []Param
	DefaultOn Where
	Example   string
	// Effects declares what the task does to the host's place in the farm,
	// for the plan verifier, which proves a playbook safe before anything
	// runs. Args are evaluated as for New; nil means no effect on rotation,
	// deployment or service.
	Effects func(args Args) Effect
	// New builds an Action from arguments already checked against Params
	// (types converted, defaults applied, required present). It returns an
	// error for problems only the module can see (e.g. mutually exclusive
	// arguments).
	New func(args Args) (Action, error)
}

// Effect is what one task does to one host, as far as the safety of the
// farm is concerned.
type Effect struct {
	// Rotation is RotationIn, RotationOut or "" (no change).
	Rotation Rotation
	// Deployment is DeploymentEnabled, DeploymentDisabled or "" (no change)
	// for the host's deployment in Service Center.
	Deployment Deployment
	// Disruptive tasks stop the host serving while they run (an installer,
	// stopping a service): they must never run on a host in rotation.
	Disruptive bool
	// Upgrades marks the task that installs the new platform version.
	Upgrades bool
}

// Rotation is a host's membership of the load-balancer pool.
type Rotation string

const (
	RotationIn  Rotation = "in"
	RotationOut Rotation = "out"
)

// Deployment is whether Service Center deploys applications to a front-end.
type Deployment string

const (
	DeploymentEnabled  Deployment = "enabled"
	DeploymentDisabled Deployment = "disabled"
)

// Param returns the named parameter.
func (d *Definition) Param(name string) (Param, bool) {
	for _, p := range d.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// Action is one task bound to its arguments, ready to run against hosts.
// The runner calls Check in check mode and Apply otherwise. Check must not
// change anything; Apply must be idempotent (a second Apply reports no change).
type Action interface {
	Check(ctx context.Context, env *Env) (Result, error)
	Apply(ctx context.Context, env *Env) (Result, error)
}

// Env is what an Action may use while it runs for one host.
type Env struct {
	Host      *inventory.Host
	Inventory *inventory.Inventory
	// Conn is the host's connection for tasks that run on the host; nil for
	// tasks that run on the control machine.
	Conn transports.Conn
	Log  *slog.Logger
	// Progress reports a live progress line (drain counters, installer
	// output). It never returns an error and may be called from any goroutine.
	Progress func(msg string)
}

// Result is what a task reports. The runner derives the status from it and
// from the returned error; a module never reports a status of its own.
type Result struct {
	Changed bool
	Msg     string
	Diff    string
	// Output is exposed to later tasks as task.<module>.<name>.<key>.
	Output map[string]cty.Value
}

// MetaArguments are the task arguments the runner owns; no module may
// declare a parameter with one of these names.
var MetaArguments = map[string]bool{
	"on": true, "when": true, "timeout": true, "retries": true, "delay": true,
	"until": true, "ignore_errors": true, "check_mode": true,
}

// Registry is an explicit set of modules, looked up by name.
type Registry struct {
	defs map[string]*Definition
}

// NewRegistry builds a registry; duplicate or unnamed modules are an error.
func NewRegistry(defs ...*Definition) (*Registry, error) {
	r := &Registry{defs: make(map[string]*Definition, len(defs))}
	for _, d := range defs {
		if d == nil || d.Name == "" || d.New == nil {
			return nil, fmt.Errorf("module registry: a definition without a name or constructor")
		}
		if _, dup := r.defs[d.Name]; dup {
			return nil, fmt.Errorf("module registry: %q registered twice", d.Name)
		}
		for _, p := range d.Params {
			if MetaArguments[p.Name] {
				// The loader takes meta-arguments before the module sees
				// its body, so such a parameter could never be set.
				return nil, fmt.Errorf("module registry: %s: parameter %q is a task meta-argument; read the deadline from the context instead", d.Name, p.Name)
			}
		}
		if d.DefaultOn == "" {
			d.DefaultOn = OnHost
		}
		r.defs[d.Name] = d
	}
	return r, nil
}

// Lookup finds a module by name.
func (r *Registry) Lookup(name string) (*Definition, bool) {
	d, ok := r.defs[name]
	return d, ok
}

// Names lists the registered modules in alphabetical order.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.defs))
	for n := range r.defs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
