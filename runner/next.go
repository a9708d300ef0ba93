package runner

import (
	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/runner/playbook"
)

// NextStep is where a resume would start doing work.
type NextStep struct {
	Wave  string `json:"wave"`
	Batch int    `json:"batch"` // 1-based within the wave
	Task  string `json:"task"`
	// Hosts are the batch's hosts the earlier run did not finish the task
	// on, in batch order; InDoubt are those of them it started and never
	// saw end, which the resume re-checks first.
	Hosts   []string `json:"hosts"`
	InDoubt []string `json:"in_doubt,omitempty"`
}

// Next finds the first step, in run order, that resume has not recorded
// as done: what `osrun apply --resume` would do first. nil means every
// step is done. It does not evaluate when: a step whose condition will be
// false still shows until a run records it skipped.
func Next(pb *playbook.Playbook, inv *inventory.Inventory, limit []string, resume Resume) (*NextStep, error) {
	set, err := limitSet(inv, limit)
	if err != nil {
		return nil, err
	}
	for _, w := range pb.Waves {
		for b, batch := range w.Batches(limited(w.Hosts, set)) {
			for _, t := range w.Tasks {
				var next *NextStep
				for _, h := range batch {
					p, ok := resume.Prior(w.Name, t.Key(), h.Name)
					if ok && p.Done() {
						continue
					}
					if next == nil {
						next = &NextStep{Wave: w.Name, Batch: b + 1, Task: t.Key()}
					}
					next.Hosts = append(next.Hosts, h.Name)
					if ok && p.InDoubt() {
						next.InDoubt = append(next.InDoubt, h.Name)
					}
				}
				if next != nil {
					return next, nil
				}
			}
		}
	}
	return nil, nil
}
