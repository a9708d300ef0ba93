// Package approvaltest holds an approval.Gate for tests of the modules
// that stop for the operator: Recorder answers at once and remembers what
// it was asked.
package approvaltest

import (
	"context"

	"github.com/osrun/osrun/modules/approval"
)

var _ approval.Gate = (*Recorder)(nil)

// Recorder answers every Wait with Err (nil: approved) and records the ids
// and instructions, in order. It is not safe for concurrent use.
type Recorder struct {
	Err          error
	IDs          []string
	Instructions []string
}

// Wait implements approval.Gate.
func (g *Recorder) Wait(_ context.Context, id, instructions string) error {
	g.IDs = append(g.IDs, id)
	g.Instructions = append(g.Instructions, instructions)
	return g.Err
}
