package lbmember

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules/lbmember/member"
)

// Driver talks to one load-balancer pool. Methods wrap member.ErrNotFound
// for unknown members; errors name the balancer's object and operation.
type Driver interface {
	// Pool names the pool for messages, e.g. "haproxy backend web".
	Pool() string
	// Members lists every member of the pool.
	Members(ctx context.Context) ([]member.Status, error)
	// Status reads one member.
	Status(ctx context.Context, name string) (member.Status, error)
	// SetState asks the balancer for a state and returns once the balancer
	// accepted it; it does not wait for sessions or health checks.
	SetState(ctx context.Context, name string, st member.State) error
}

// SessionKiller is implemented by drivers whose balancer can cut a member's
// remaining sessions (on_drain_timeout = "force").
type SessionKiller interface {
	KillSessions(ctx context.Context, name string) error
}

// Factory opens a driver for one load_balancer block, decoding its settings.
type Factory func(ep *inventory.Endpoint) (Driver, error)

// Registry is an explicit set of drivers keyed by the endpoint's driver name.
type Registry struct {
	factories map[string]Factory
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{factories: map[string]Factory{}} }

// Register adds a driver; registering a name twice is a programming error
// reported as an error so the assembling code can fail loudly.
func (r *Registry) Register(name string, f Factory) error {
	if name == "" || f == nil {
		return fmt.Errorf("lb driver registry: a driver without a name or factory")
	}
	if _, dup := r.factories[name]; dup {
		return fmt.Errorf("lb driver registry: %q registered twice", name)
	}
	r.factories[name] = f
	return nil
}

// Names lists the registered drivers alphabetically.
func (r *Registry) Names() []string { return slices.Sorted(maps.Keys(r.factories)) }

// Open builds the driver for ep.
func (r *Registry) Open(ep *inventory.Endpoint) (Driver, error) {
	f, ok := r.factories[ep.Driver]
	if !ok {
		return nil, fmt.Errorf("load balancer %s: unknown driver %q (known: %v)", ep.Name, ep.Driver, r.Names())
	}
	d, err := f(ep)
	if err != nil {
		return nil, fmt.Errorf("load balancer %s: %w", ep.Name, err)
	}
	return d, nil
}
