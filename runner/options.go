package runner

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/transports"
)

// Dialer opens a connection to a host. The runner keeps one per transport
// name (Host.Transport) and dials each host at most once per run.
type Dialer interface {
	Dial(ctx context.Context, h *inventory.Host) (transports.Conn, error)
}

// DialerFunc adapts a function to Dialer.
type DialerFunc func(ctx context.Context, h *inventory.Host) (transports.Conn, error)

// Dial calls f.
func (f DialerFunc) Dial(ctx context.Context, h *inventory.Host) (transports.Conn, error) {
	return f(ctx, h)
}

// DefaultForks is how many hosts of a batch run at once unless told otherwise.
const DefaultForks = 5

// DefaultOnFailureTimeout bounds the on_failure waves unless told otherwise.
const DefaultOnFailureTimeout = 10 * time.Minute

// Options tune a run.
type Options struct {
	// Check only predicts: Action.Check is called instead of Apply, except
	// for tasks with check_mode = false.
	Check bool
	// Diff passes modules' diffs on in HostTaskEnd events.
	Diff bool
	// Forks bounds the hosts of a batch that run at once; 0 means DefaultForks.
	Forks int
	// Limit restricts the run to these hosts and groups (by name).
	Limit []string
	// Sink receives the events; nil drops them.
	Sink Sink
	// Dialers open connections, by Host.Transport ("ssh", "winrm", "local").
	Dialers map[string]Dialer
	// Log receives debugging detail; nil discards it.
	Log   *slog.Logger
	RunID string
	// Resume continues an earlier run: a step it finished (ok, changed or
	// skipped) is not run again but reported with its recorded status and
	// outputs (Event.ResumedFrom set); a step it started and never ended is
	// re-checked with Action.Check before anything is applied; a step that
	// failed runs again. On each host, the last finished step that changes
	// its rotation, its deployment or its version is re-read with
	// Action.Check first, and applied again if the farm no longer matches
	// the record. Waves still run in order. The caller makes sure
	// the record is of the same playbook and inventory.
	Resume Resume
	// CheckOnFailure rehearses the on_failure waves too when a check run
	// stops early; a check run skips them otherwise.
	CheckOnFailure bool
	// OnFailureTimeout bounds the on_failure waves, which run after the
	// run's context is cancelled; 0 means DefaultOnFailureTimeout.
	OnFailureTimeout time.Duration
	// HardStop is the second interrupt: when done, it cancels the upgrades
	// (tasks whose module declares Effect.Upgrades) that the first
	// interrupt, ctx, lets finish, and cuts the on_failure waves short.
	// nil: upgrades always finish, and only OnFailureTimeout bounds the
	// on_failure waves.
	HardStop context.Context
}

// limitSet resolves --limit names to hosts; nil means no limit.
func limitSet(inv *inventory.Inventory, names []string) (map[*inventory.Host]bool, error) {
	if len(names) == 0 {
		return nil, nil
	}
	set := map[*inventory.Host]bool{}
	for _, n := range names {
		if h := inv.Host(n); h != nil {
			set[h] = true
			continue
		}
		if g := inv.Group(n); g != nil {
			for _, h := range g.Hosts {
				set[h] = true
			}
			continue
		}
		return nil, fmt.Errorf("limit: the inventory has no host or group named %q", n)
	}
	return set, nil
}

// limited keeps the hosts in set, in order; a nil set keeps all.
func limited(hosts []*inventory.Host, set map[*inventory.Host]bool) []*inventory.Host {
	if set == nil {
		return hosts
	}
	var out []*inventory.Host
	for _, h := range hosts {
		if set[h] {
			out = append(out, h)
		}
	}
	return out
}

func names(hosts []*inventory.Host) []string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = h.Name
	}
	return out
}
