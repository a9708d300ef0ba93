package playbook

import (
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
)

// Playbook is a decoded playbook, bound to one inventory and one set of
// variable values.
type Playbook struct {
	Filename string
	// Vars are the final variable values (defaults, then --var-file, then --var).
	Vars  map[string]cty.Value
	Waves []*Wave
	// OnFailure are the on_failure waves, in order: they run only when the
	// run stops early (a failure budget exceeded, an interrupt), to put the
	// farm back in a safe state. Their tasks come after every wave's, so
	// they may read any wave task's result.
	OnFailure []*Wave

	varObj cty.Value
	funcs  map[string]function.Function
	tasks  []*Task // every task, in declaration order
}

// Wave is a named step of the procedure over a set of hosts.
type Wave struct {
	Name        string
	Description string
	// Hosts are the selected hosts in reference order (each group in its own
	// order), without duplicates and without the excluded ones.
	Hosts []*inventory.Host
	// Serial sizes the batches; empty means one batch of every host.
	Serial []BatchSize
	// MaxFailPercentage is the share of the wave's hosts that may fail before
	// the run stops; 0 means any failure stops it.
	MaxFailPercentage float64
	Tasks             []*Task
	// OnFailure marks an on_failure wave.
	OnFailure bool
	DeclRange hcl.Range
}

// Task is one call of a module, repeated on every host of a batch.
type Task struct {
	Module string
	Name   string
	Def    *modules.Definition
	On     modules.Where
	// Timeout bounds each attempt; 0 means no limit.
	Timeout time.Duration
	// Retries is how many more attempts follow a failed one (an error, or
	// until still false).
	Retries int
	Delay   time.Duration
	// IgnoreErrors keeps a host running after this task fails on it.
	IgnoreErrors bool
	// CheckMode, when set, overrides the run's mode for this task: true
	// always only checks, false always applies (for read-only tasks whose
	// results later tasks need even under --check).
	CheckMode *bool
	// WhenSource is the text of the when expression, "" when absent.
	WhenSource string
	DeclRange  hcl.Range

	when  hcl.Expression
	until hcl.Expression
	args  map[string]*hcl.Attribute
}

// Key names the task the way references and events do: "<module>.<name>".
func (t *Task) Key() string { return t.Module + "." + t.Name }

// HasUntil reports whether the task repeats until a condition holds.
func (t *Task) HasUntil() bool { return t.until != nil }
