package verify

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/runner"
	"github.com/osrun/osrun/runner/playbook"
)

// HostState is one host's place in the farm at one step of the plan.
type HostState struct {
	Host     string `json:"host"`
	Zone     string `json:"zone"`
	Frontend bool   `json:"frontend"`
	// InRotation is false from the start of the task that takes the host
	// out until the end of the task that puts it back.
	InRotation        bool `json:"in_rotation"`
	DeploymentEnabled bool `json:"deployment_enabled"`
	// Disrupted is true while a disruptive task runs on the host.
	Disrupted bool `json:"disrupted"`
	Upgraded  bool `json:"upgraded"`
}

// Step is the farm while one task runs on one batch.
type Step struct {
	Wave    string `json:"wave"`
	Batch   int    `json:"batch"` // from 1
	Batches int    `json:"batches"`
	Task    string `json:"task"` // "<module>.<name>"
	// Hosts are the batch's hosts the task runs on (a when that is false
	// for a host before the run leaves it out).
	Hosts []string `json:"hosts"`
	// Farm is every host of the inventory, in inventory order.
	Farm []HostState `json:"farm"`
}

// Serving counts, per zone, the front-ends in rotation and not disrupted
// while the step runs (zones without front-ends are left out).
func (st Step) Serving() map[string]int {
	out := map[string]int{}
	for _, hs := range st.Farm {
		if !hs.Frontend {
			continue
		}
		if _, ok := out[hs.Zone]; !ok {
			out[hs.Zone] = 0
		}
		if hs.InRotation && !hs.Disrupted {
			out[hs.Zone]++
		}
	}
	return out
}

// Trace is the simulated run: the farm at each step and at the end.
type Trace struct {
	Steps []Step      `json:"steps"`
	End   []HostState `json:"end"`
}

// Verify proves that running pb on inv, restricted to limit as the runner
// would (host or group names; none means every host), keeps the farm
// serving. See the package documentation for the rules. It returns an
// error diagnostic per violation and a warning per task it could not
// verify; no diagnostics mean the plan is proven safe.
func Verify(pb *playbook.Playbook, inv *inventory.Inventory, limit []string) hcl.Diagnostics {
	_, diags := Simulate(pb, inv, limit)
	return diags
}

// Simulate is Verify that also returns the trace of the simulated run,
// for `osrun plan`. The trace is nil when limit names no host or group of
// inv.
func Simulate(pb *playbook.Playbook, inv *inventory.Inventory, limit []string) (*Trace, hcl.Diagnostics) {
	plan, err := runner.Plan(pb, inv, limit)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot verify the plan",
			Detail:   err.Error() + ".",
		}}
	}
	s := newSim(pb, inv)
	for _, pw := range plan.Waves {
		for _, b := range pw.Batches {
			for _, n := range b.Hosts {
				s.controllerPlanned = s.controllerPlanned || s.byName[n].h.HasRole(inventory.RoleController)
			}
		}
	}
	s.waves(pb.Waves, plan.Waves, func(stop position) {
		// The run may stop after any step (an interrupt lets the steps
		// under way finish; a failure budget is checked between batches),
		// and then runs the on_failure waves from where it stopped.
		if len(pb.OnFailure) > 0 {
			s.fork(stop).waves(pb.OnFailure, plan.OnFailure, nil)
		}
	})
	s.end()
	return &s.trace, s.rep.diagnostics()
}
