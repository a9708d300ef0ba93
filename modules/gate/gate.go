// Package gate is the `gate` module: a pause for a person's approval
// between two steps of a playbook ("the rehearsal looked right, go on with
// the loaded front-ends"). The approval comes through the run's approval
// gate: a prompt on a terminal, `osrun approve RUN GATE` from another
// shell or pipeline job, or --approve on the command line.
package gate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/approval"
)

// MaxID bounds a gate id, like the names declared in source.
const MaxID = 128

// IDRule says what ValidID accepts, for messages.
const IDRule = "cannot name a gate: it must start with a letter and contain only letters, digits, underscores, dashes and dots (at most 128 characters)"

// ValidID reports whether id may name a gate. Approvals are files named
// after the id (approval.File), so an id with other characters could share
// a file with another id; dots are kept for the dotted prefixes --approve
// grants ("sc_frontend.disable" approves "sc_frontend.disable.fe03").
func ValidID(id string) bool {
	if id == "" || len(id) > MaxID {
		return false
	}
	for i, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

// Options carries the run's approval gate.
type Options struct {
	// Gate asks for approvals; without one, a gate task fails rather than
	// carrying on unapproved. It belongs to one run.
	Gate approval.Gate
}

// Definition returns the gate module.
//
// Build one per run: the definition remembers the gates approved so far.
func Definition(opts Options) *modules.Definition {
	var gate *asks
	if opts.Gate != nil {
		gate = newAsks(opts.Gate)
	}
	return &modules.Definition{
		Name:    "gate",
		Summary: "Pause the run until a person approves",
		Doc: `Waits until the gate named by id is approved: on a terminal osrun asks; otherwise
approve it from another shell or pipeline job with "osrun approve --state-dir DIR RUN ID"
(apply prints the exact command), or grant it up front with --approve ID. A denial, or
no answer within the task's timeout, fails the task and stops the run after the batch,
whatever the wave's max_fail_percentage (unless the task has ignore_errors); the
on_failure waves then run. An approval holds for the rest of the run, so a gate in a
wave over many hosts asks once. In check mode it does not wait; it says it would ask.
Runs on the control machine.

A wave can ask before any of its tasks with the gate attribute, which becomes the
wave's first task, gate.WAVE: gate = { instructions = "...", id = "...", timeout = "2h" },
where id defaults to the wave's name and timeout to 1h. Later tasks read its result as
task.gate.WAVE, like any task's. A denial or no answer in time fails the wave's hosts
before any of its tasks, and the run stops.`,
		DefaultOn: modules.OnControl,
		Params: []modules.Param{
			{Name: "id", Type: cty.String, Required: true, Doc: "The gate's name, as approve and --approve give it, e.g. \"upgrade_loaded\": a letter, then letters, digits, underscores, dashes and dots."},
			{Name: "instructions", Type: cty.String, Required: true, Doc: "What the person should check before approving."},
		},
		Example: `wave "approve_loaded" {
  hosts = group.controller

  task "gate" "loaded" {
    id           = "upgrade_loaded"
    instructions = "Check the applications on the updating front-ends, then approve."
    timeout      = "2h"
  }
}`,
		New: func(args modules.Args) (modules.Action, error) {
			id := args.String("id")
			if !ValidID(id) {
				return nil, fmt.Errorf("argument id: %q %s", id, IDRule)
			}
			return &action{id: id, instructions: args.String("instructions"), gate: gate}, nil
		},
	}
}

type action struct {
	id, instructions string
	gate             *asks
}

func (a *action) Check(ctx context.Context, env *modules.Env) (modules.Result, error) {
	return modules.Result{Msg: fmt.Sprintf("would wait for approval of gate %s", a.id)}, nil
}

func (a *action) Apply(ctx context.Context, env *modules.Env) (modules.Result, error) {
	if a.gate == nil {
		return modules.Result{}, fmt.Errorf("gate %s: no way to ask for approval in this run", a.id)
	}
	if err, ok := a.gate.answer(a.id); ok {
		if err != nil {
			return modules.Result{}, err
		}
		return modules.Result{Msg: fmt.Sprintf("gate %s approved earlier in this run", a.id)}, nil
	}
	start := time.Now()
	if env.Progress != nil {
		env.Progress("waiting for approval of gate " + a.id)
	}
	if err := a.gate.Wait(ctx, a.id, a.instructions); err != nil {
		return modules.Result{}, err
	}
	return modules.Result{Msg: fmt.Sprintf("gate %s approved after %s", a.id, time.Since(start).Round(time.Second))}, nil
}

// asks puts one question per gate id to the person. The runner runs a task
// on every host of a batch at once, so without it a gate (a wave's, whose
// hosts are the wave's) would ask the same question once per host, one
// after the other on a terminal. Concurrent waits for one id share one
// question; an approval is remembered, so later batches go on at once
// (approval.File remembers it too, but a terminal does not). So is a
// denial, as approval.File does: a "no" is not asked again in a later
// batch. Any other error is shared with the waits that were waiting for
// it, and not kept.
type asks struct {
	gate approval.Gate

	mu       sync.Mutex
	answered map[string]error // nil: approved; wraps approval.ErrDenied: denied
	pending  map[string]*ask
}

// ask is a question on screen; err is set before done is closed.
type ask struct {
	done chan struct{}
	err  error
}

func newAsks(g approval.Gate) *asks {
	return &asks{gate: g, answered: map[string]error{}, pending: map[string]*ask{}}
}

// answer is the answer already given for id in this run, if any.
func (a *asks) answer(id string) (err error, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	err, ok = a.answered[id]
	return err, ok
}

func (a *asks) Wait(ctx context.Context, id, instructions string) error {
	for {
		a.mu.Lock()
		if err, ok := a.answered[id]; ok {
			a.mu.Unlock()
			return err
		}
		q, asked := a.pending[id]
		if !asked {
			q = &ask{done: make(chan struct{})}
			a.pending[id] = q
		}
		a.mu.Unlock()

		if !asked {
			q.err = a.gate.Wait(ctx, id, instructions)
			a.mu.Lock()
			delete(a.pending, id)
			if q.err == nil || errors.Is(q.err, approval.ErrDenied) {
				a.answered[id] = q.err
			}
			a.mu.Unlock()
			close(q.done)
			return q.err
		}
		select {
		case <-q.done:
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("gate %s: %w", id, approval.ErrTimeout)
			}
			return fmt.Errorf("gate %s: %w", id, ctx.Err())
		}
		// The asker's time ran out, not necessarily ours (a retry that
		// started later): ask again for the time we have left.
		if ended(q.err) && ctx.Err() == nil {
			continue
		}
		return q.err
	}
}

// ended reports an error that says the asker's context ended rather than
// what the person answered.
func ended(err error) bool {
	return errors.Is(err, approval.ErrTimeout) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
