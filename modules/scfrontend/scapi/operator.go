package scapi

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/osrun/osrun/modules/approval"
)

// Operator has the operator do or confirm the steps of the manual driver
// through an approval gate, once per host in a run: a step already
// confirmed is not asked again when its task runs a second time.
type Operator struct {
	// Gate obtains the operator's answer; without one a step fails
	// instead of waiting.
	Gate approval.Gate

	confirmed sync.Map // host names
}

// Confirmed reports whether the operator confirmed host's step in this run.
func (o *Operator) Confirmed(host string) bool {
	_, ok := o.confirmed.Load(host)
	return ok
}

// Confirm waits up to timeout for the operator to approve gate id, shown
// the instructions, and remembers host's step as confirmed.
func (o *Operator) Confirm(ctx context.Context, host, id, instructions string, timeout time.Duration) error {
	if o.Gate == nil {
		return errors.New("the manual driver needs an approval gate, and this run has none")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := o.Gate.Wait(ctx, id, instructions); err != nil {
		return fmt.Errorf("waiting for the operator: %w", err)
	}
	o.confirmed.Store(host, true)
	return nil
}
