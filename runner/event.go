package runner

import (
	"encoding/json"
	"time"
)

// Kind says what an Event marks.
type Kind string

const (
	RunStart      Kind = "run_start"
	RunEnd        Kind = "run_end"
	WaveStart     Kind = "wave_start"
	WaveEnd       Kind = "wave_end"
	BatchStart    Kind = "batch_start"
	BatchEnd      Kind = "batch_end"
	TaskStart     Kind = "task_start" // a task begins on every host of a batch
	TaskEnd       Kind = "task_end"   // every host of the batch finished the task
	HostTaskStart Kind = "host_task_start"
	HostTaskEnd   Kind = "host_task_end" // carries the host's Status for the task
	Progress      Kind = "progress"      // a live progress line from a module
)

// Status is the outcome of a task on a host, or of a wave or run.
type Status string

const (
	StatusOK          Status = "ok"          // ran, nothing changed
	StatusChanged     Status = "changed"     // ran and changed something (or would, in check mode)
	StatusFailed      Status = "failed"      // the task failed on the host
	StatusSkipped     Status = "skipped"     // `when` was false, or the host had already failed
	StatusUnreachable Status = "unreachable" // no connection could be opened
	StatusInterrupted Status = "interrupted" // the run was cancelled
)

// Event is one thing that happened during a run. Fields that do not apply
// to a Kind are zero. The runner never calls Sink.Emit concurrently.
type Event struct {
	Kind     Kind          `json:"kind"`
	Time     time.Time     `json:"time"`
	RunID    string        `json:"run_id,omitempty"`
	Check    bool          `json:"check,omitempty"`
	Wave     string        `json:"wave,omitempty"`
	WaveNum  int           `json:"wave_num,omitempty"` // 1-based
	Waves    int           `json:"waves,omitempty"`
	Batch    int           `json:"batch,omitempty"` // 1-based within the wave
	Batches  int           `json:"batches,omitempty"`
	Task     string        `json:"task,omitempty"` // "<module>.<name>"
	Module   string        `json:"module,omitempty"`
	Host     string        `json:"host,omitempty"`
	Hosts    []string      `json:"hosts,omitempty"`
	Status   Status        `json:"status,omitempty"`
	Duration time.Duration `json:"duration_ns,omitempty"`
	Msg      string        `json:"msg,omitempty"`
	Diff     string        `json:"diff,omitempty"`
	Error    string        `json:"error,omitempty"`
	// Attempt is the try number for retried tasks (1-based), 0 otherwise.
	Attempt int `json:"attempt,omitempty"`
	// Ignored marks a failed HostTaskEnd of a task with ignore_errors: the
	// host carries on.
	Ignored bool `json:"ignored,omitempty"`
	// Output is a HostTaskEnd's Result.Output as cty JSON with its type,
	// {"value": {...}, "type": [...]}, so a resumed run can give later tasks
	// the outputs of steps it does not run again. Keys whose value is marked
	// secret are left out: a secret is never written to an event.
	Output json.RawMessage `json:"output,omitempty"`
	// ResumedFrom, on the HostTaskStart and HostTaskEnd of a step that an
	// earlier run finished, names the run that did it; the step was not
	// run again. A step whose live state is re-read carries it on its
	// HostTaskEnd only, when the re-read confirmed the record.
	ResumedFrom string `json:"resumed_from,omitempty"`
	// OnFailure marks the events of the playbook's on_failure waves, which
	// run after the run stopped on a failure or an interrupt.
	OnFailure bool `json:"on_failure,omitempty"`
}

// Sink receives a run's events; the CLI renders them.
type Sink interface {
	Emit(Event)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(Event)

// Emit calls f.
func (f SinkFunc) Emit(e Event) { f(e) }
