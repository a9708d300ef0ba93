package runner

import (
	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/runner/playbook"
)

// PlanResult is what a run would do: each wave, its batches of hosts, and
// the tasks every batch runs. It marshals to the JSON of `osrun plan --json`.
type PlanResult struct {
	Playbook string     `json:"playbook"`
	Waves    []PlanWave `json:"waves"`
	// OnFailure are the waves that run only if the run stops early.
	OnFailure []PlanWave `json:"on_failure,omitempty"`
}

// PlanWave is one wave of a plan.
type PlanWave struct {
	Name              string      `json:"name"`
	Description       string      `json:"description,omitempty"`
	Serial            []string    `json:"serial,omitempty"`
	MaxFailPercentage float64     `json:"max_fail_percentage"`
	Hosts             []string    `json:"hosts"`
	Batches           []PlanBatch `json:"batches"`
	Tasks             []PlanTask  `json:"tasks"`
}

// PlanBatch is one batch of a wave's hosts.
type PlanBatch struct {
	Hosts []string `json:"hosts"`
}

// PlanTask is one task as every batch of its wave runs it.
type PlanTask struct {
	Task      string `json:"task"` // "<module>.<name>"
	Module    string `json:"module"`
	Name      string `json:"name"`
	On        string `json:"on"`
	When      string `json:"when,omitempty"`
	Timeout   string `json:"timeout,omitempty"`
	Retries   int    `json:"retries,omitempty"`
	CheckMode *bool  `json:"check_mode,omitempty"`
}

// Plan computes waves and batches for pb on inv, restricted to limit (host
// or group names), without connecting to any host.
func Plan(pb *playbook.Playbook, inv *inventory.Inventory, limit []string) (*PlanResult, error) {
	set, err := limitSet(inv, limit)
	if err != nil {
		return nil, err
	}
	p := &PlanResult{Playbook: pb.Filename, Waves: []PlanWave{}}
	for _, w := range pb.Waves {
		p.Waves = append(p.Waves, planWave(w, set))
	}
	for _, w := range pb.OnFailure {
		p.OnFailure = append(p.OnFailure, planWave(w, set))
	}
	return p, nil
}

func planWave(w *playbook.Wave, set map[*inventory.Host]bool) PlanWave {
	hosts := limited(w.Hosts, set)
	pw := PlanWave{
		Name:              w.Name,
		Description:       w.Description,
		MaxFailPercentage: w.MaxFailPercentage,
		Hosts:             names(hosts),
		Batches:           []PlanBatch{},
		Tasks:             []PlanTask{},
	}
	for _, s := range w.Serial {
		pw.Serial = append(pw.Serial, s.String())
	}
	for _, b := range w.Batches(hosts) {
		pw.Batches = append(pw.Batches, PlanBatch{Hosts: names(b)})
	}
	for _, t := range w.Tasks {
		pt := PlanTask{
			Task:      t.Key(),
			Module:    t.Module,
			Name:      t.Name,
			On:        string(t.On),
			When:      t.WhenSource,
			Retries:   t.Retries,
			CheckMode: t.CheckMode,
		}
		if t.Timeout > 0 {
			pt.Timeout = t.Timeout.String()
		}
		pw.Tasks = append(pw.Tasks, pt)
	}
	return pw
}
