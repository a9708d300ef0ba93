package approval

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Gate obtains an operator's approval for the step named id, after showing
// instructions that say exactly what to do. Wait returns nil once approved,
// and an error otherwise (denied, undecided, or the context ended).
type Gate interface {
	Wait(ctx context.Context, id, instructions string) error
}

// Each of these errors means the step was not approved. They stop the
// run whatever the failure budget of the wave (see refusal.StopsRun).
var (
	// ErrDenied means the operator answered no.
	ErrDenied error = refusal("denied by the operator")
	// ErrUndecided means this gate cannot decide for this id (not in the
	// pre-approved set, no terminal input). Any keeps waiting on its other
	// gates when one of them is undecided.
	ErrUndecided error = refusal("no way to obtain an approval")
	// ErrTimeout means the context's deadline passed before anyone approved.
	ErrTimeout error = refusal("no approval before the timeout")
)

// refusal is an answer other than an approval.
type refusal string

func (r refusal) Error() string { return string(r) }

// StopsRun tells the runner to stop the run after the batch even when the
// wave's max_fail_percentage would let it go on: a step a person did not
// approve must not be followed by the waves that relied on the approval.
func (refusal) StopsRun() bool { return true }

// ctxErr turns the end of ctx into the error a gate returns, so callers
// can tell a timeout (ErrTimeout) from a cancelled run.
func ctxErr(ctx context.Context, id string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("gate %s: %w", id, ErrTimeout)
	}
	return fmt.Errorf("gate %s: %w", id, ctx.Err())
}

// Preapproved approves the ids granted up front (--approve). A pattern
// approves the id itself and every id it is a dotted prefix of:
// "sc_frontend.disable" approves "sc_frontend.disable.fe03" but not
// "sc_frontend.disabled.fe03". "*" approves everything.
type Preapproved []string

// Wait returns nil when id is pre-approved and ErrUndecided otherwise.
func (p Preapproved) Wait(ctx context.Context, id, _ string) error {
	if p.Approves(id) {
		return nil
	}
	return fmt.Errorf("gate %s is not pre-approved (--approve %s): %w", id, id, ErrUndecided)
}

// Approves reports whether id is in the set.
func (p Preapproved) Approves(id string) bool {
	for _, pat := range p {
		if pat == "*" || pat == id || strings.HasPrefix(id, pat+".") {
			return true
		}
	}
	return false
}

// Any asks all gates at once and returns the first decision: nil when one
// approves, ErrDenied when one denies. Gates that are undecided are ignored
// while another can still answer; when all are undecided their errors are
// joined. Any waits for every gate to return before it does, so no gate
// outlives the call.
func Any(gates ...Gate) Gate { return anyGate(gates) }

type anyGate []Gate

func (gs anyGate) Wait(ctx context.Context, id, instructions string) error {
	if len(gs) == 0 {
		return fmt.Errorf("gate %s: no gate configured: %w", id, ErrUndecided)
	}
	ctx, cancel := context.WithCancel(ctx)
	results := make(chan error, len(gs))
	for _, g := range gs {
		go func() { results <- g.Wait(ctx, id, instructions) }()
	}
	var (
		decision error
		decided  bool
		undec    []error
	)
	for range gs {
		err := <-results
		if decided {
			continue
		}
		switch {
		case err == nil || errors.Is(err, ErrDenied):
			decision, decided = err, true
			cancel()
		case errors.Is(err, ErrUndecided):
			undec = append(undec, err)
		default:
			// The shared context ended (timeout or cancellation): every other
			// gate reports the same, so the first such error is the answer.
			decision, decided = err, true
			cancel()
		}
	}
	cancel()
	if decided {
		return decision
	}
	return errors.Join(undec...)
}
