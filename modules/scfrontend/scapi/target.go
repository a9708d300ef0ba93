package scapi

import (
	"fmt"

	"github.com/osrun/osrun/inventory"
)

// Target is one front-end as a module step reaches it: through a Client
// when its service_center block has driver "http", or through the operator
// with the Manual settings when it has driver "manual". Exactly one of
// Client and Manual is set once Open succeeds.
type Target struct {
	Name   string // the front-end's name in Service Center
	Client *Client
	Manual *Manual
}

// Open resolves host's service_center endpoint (see Resolve; override
// names one) and opens it for front-end frontend, the host's name when
// empty. Close the Target when done.
func Open(inv *inventory.Inventory, host *inventory.Host, frontend, override string, opts Options) (Target, error) {
	t := Target{Name: frontend}
	if t.Name == "" {
		t.Name = host.Name
	}
	ep, err := Resolve(inv, host, override)
	if err != nil {
		return t, err
	}
	switch ep.Driver {
	case "http":
		t.Client, err = New(ep, opts)
	case "manual":
		var m Manual
		if m, err = DecodeManual(ep.Settings); err != nil {
			err = fmt.Errorf("service_center %s: %w", ep.Name, err)
		}
		t.Manual = &m
	default:
		err = fmt.Errorf("service_center %s: driver %q is not http or manual", ep.Name, ep.Driver)
	}
	return t, err
}

// Close releases the Client's connections, if any.
func (t Target) Close() {
	if t.Client != nil {
		t.Client.Close()
	}
}
