package runner

import (
	"slices"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/runner/playbook"
)

// HostKnown is a host's last known place in the farm by an earlier run's
// record: the declared effects of the last steps it finished there. Empty
// fields are what no finished step changed.
type HostKnown struct {
	Host string `json:"host"`
	// Rotation and Deployment are the last finished step's effect, and By
	// that step's task key.
	Rotation     modules.Rotation   `json:"rotation,omitempty"`
	RotationBy   string             `json:"rotation_by,omitempty"`
	Deployment   modules.Deployment `json:"deployment,omitempty"`
	DeploymentBy string             `json:"deployment_by,omitempty"`
	// UpgradedBy is the last finished upgrade step, and Version what it
	// reported installed (its version_after output), "" when it reported
	// none.
	Version    string `json:"version,omitempty"`
	UpgradedBy string `json:"upgraded_by,omitempty"`
	// InDoubt are the steps started and never seen to end, Failed those
	// that failed: what the host's state may differ by.
	InDoubt []string `json:"in_doubt,omitempty"`
	Failed  []string `json:"failed,omitempty"`
	// Undone: an on_failure wave ran after these steps and may have
	// changed what they did.
	Undone bool `json:"undone,omitempty"`
}

// KnownState is every host's last known state by resume's record (see
// HostKnown), in inventory order, for the hosts of the playbook's waves
// the limit leaves. It reads nothing from the farm: a resume re-reads the
// live state of what it relies on (see Options.Resume).
func KnownState(pb *playbook.Playbook, inv *inventory.Inventory, limit []string, resume Resume) ([]HostKnown, error) {
	set, err := limitSet(inv, limit)
	if err != nil {
		return nil, err
	}
	var out []HostKnown
	for _, h := range inv.Hosts {
		k := HostKnown{Host: h.Name}
		in := false
		for _, w := range pb.Waves {
			if !slices.Contains(limited(w.Hosts, set), h) {
				continue
			}
			in = true
			for _, t := range w.Tasks {
				p, ok := resume.Prior(w.Name, t.Key(), h.Name)
				switch {
				case !ok:
				case p.InDoubt():
					k.InDoubt = append(k.InDoubt, t.Key())
				case p.Status == StatusFailed || p.Status == StatusUnreachable || p.Status == StatusInterrupted:
					k.Failed = append(k.Failed, t.Key())
				case p.Undone != "":
					k.Undone = true
				}
			}
		}
		if !in {
			continue
		}
		finishedSteps(pb, inv, h, set, resume, func(f finished) {
			key := f.task.Key()
			if r := f.effect.Rotation; r != "" {
				k.Rotation, k.RotationBy = r, key
			}
			if d := f.effect.Deployment; d != "" {
				k.Deployment, k.DeploymentBy = d, key
			}
			if f.effect.Upgrades {
				k.Version, k.UpgradedBy = "", key
				if v, ok := f.result.Output["version_after"]; ok && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
					k.Version = v.AsString()
				}
			}
		})
		out = append(out, k)
	}
	return out, nil
}
