package member

import (
	"errors"
	"fmt"
)

// State is the administrative state of a pool member, as osrun asks for it.
type State string

const (
	// Enabled members are in rotation and receive new sessions.
	Enabled State = "enabled"
	// Drained members receive no new sessions (persistent clients may still
	// arrive, depending on the balancer); existing ones finish.
	Drained State = "drained"
	// Disabled members are out of rotation.
	Disabled State = "disabled"
)

// States lists the valid states in the order a member leaves rotation.
var States = []State{Enabled, Drained, Disabled}

// Parse converts s to a State, refusing anything else.
func Parse(s string) (State, error) {
	for _, st := range States {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown member state %q (want enabled, drained or disabled)", s)
}

// Status is what a driver reads back about one member.
type Status struct {
	Name  string
	State State
	// Sessions counts the member's current sessions or connections, as the
	// balancer reports them (HAProxy scur, NGINX active, F5 curConns).
	Sessions int
	// Healthy is the balancer's own health check verdict. A member whose
	// checks are suspended (HAProxy maint) is not healthy.
	Healthy bool
	// Detail is the balancer's own word for the state ("DRAIN 1/2",
	// "user-disabled"), for messages only.
	Detail string
}

// InRotation reports whether the member takes new traffic: enabled and healthy.
func (s Status) InRotation() bool { return s.State == Enabled && s.Healthy }

// ErrNotFound is wrapped by drivers when the pool has no member of that name.
var ErrNotFound = errors.New("no such member")

// ErrUnsupported is wrapped by drivers for operations their balancer
// cannot do (for example killing sessions).
var ErrUnsupported = errors.New("not supported by this load balancer")
