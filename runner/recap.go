package runner

import "time"

// Outcome sums up a run; the CLI maps it to an exit code.
type Outcome string

const (
	// OutcomeSuccess: no host failed (ignored errors do not count).
	OutcomeSuccess Outcome = "success"
	// OutcomeFailed: some host failed or was unreachable, within the budget.
	OutcomeFailed Outcome = "failed"
	// OutcomeBudgetExceeded: a wave's failures exceeded its
	// max_fail_percentage and the run stopped early.
	OutcomeBudgetExceeded Outcome = "budget_exceeded"
	// OutcomeInterrupted: the context was cancelled (Ctrl-C, SIGTERM).
	OutcomeInterrupted Outcome = "interrupted"
)

// Recap is the result of a run.
type Recap struct {
	RunID   string  `json:"run_id,omitempty"`
	Check   bool    `json:"check,omitempty"`
	Outcome Outcome `json:"outcome"`
	// StoppedAt names the wave where the run stopped early, "" when it ran
	// to the end.
	StoppedAt string `json:"stopped_at,omitempty"`
	// StopReason says why an OutcomeBudgetExceeded run stopped: "the
	// failure budget was exceeded (max_fail_percentage N)" or "a step was
	// not approved".
	StopReason string        `json:"stop_reason,omitempty"`
	Duration   time.Duration `json:"duration_ns"`
	// Hosts are every host the run selected, in inventory order.
	Hosts []HostRecap `json:"hosts"`
	// OnFailure sums up the playbook's on_failure waves; nil when they did
	// not run. Outcome above stays what stopped the run.
	OnFailure *OnFailureRecap `json:"on_failure,omitempty"`
}

// OnFailureRecap is the result of the on_failure waves.
type OnFailureRecap struct {
	// Outcome: success, failed (a host failed a restore task),
	// budget_exceeded (a restore wave stopped the rest) or interrupted
	// (the time bound or a hard stop cut them short).
	Outcome   Outcome `json:"outcome"`
	StoppedAt string  `json:"stopped_at,omitempty"`
	// Hosts are the hosts of the on_failure waves, in inventory order,
	// counting only their restore tasks.
	Hosts []HostRecap `json:"hosts"`
}

// HostRecap counts a host's task outcomes.
type HostRecap struct {
	Host        string `json:"host"`
	OK          int    `json:"ok"`
	Changed     int    `json:"changed"`
	Failed      int    `json:"failed"`
	Skipped     int    `json:"skipped"`
	Unreachable int    `json:"unreachable"`
	// Ignored counts failures of tasks with ignore_errors.
	Ignored int `json:"ignored"`
	// Interrupted counts tasks cut short by cancellation.
	Interrupted int `json:"interrupted,omitempty"`
	// Resumed counts the steps an earlier run finished, which this run did
	// not run again; they are also counted by their recorded status.
	Resumed int `json:"resumed,omitempty"`
	// FailedTask and Error say where and why a host dropped out of the run
	// (failed or unreachable); empty for hosts that did not.
	FailedTask string `json:"failed_task,omitempty"`
	Error      string `json:"error,omitempty"`
}

func (c *HostRecap) add(s Status, ignored bool) {
	switch {
	case ignored:
		c.Ignored++
	case s == StatusOK:
		c.OK++
	case s == StatusChanged:
		c.Changed++
	case s == StatusFailed:
		c.Failed++
	case s == StatusSkipped:
		c.Skipped++
	case s == StatusUnreachable:
		c.Unreachable++
	case s == StatusInterrupted:
		c.Interrupted++
	}
}
