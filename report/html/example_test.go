package html_test

import (
	"os"
	"path/filepath"
	"time"

	htmlreport "github.com/osrun/osrun/report/html"
	"github.com/osrun/osrun/runner"
)

// How the CLI wires the report: the collector is one more sink of the run
// (next to the text or JSON output), the lab adds what only it knows, and
// the file is written once the run has returned its recap.
func Example() {
	report := htmlreport.New("Upgrade to 11.31", htmlreport.WithPlaybook("playbooks/upgrade.hcl"))

	// The runner emits events; with other sinks, fan out:
	// opts.Sink = runner.SinkFunc(func(e runner.Event) { text.Emit(e); report.Emit(e) })
	t0 := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	report.Emit(runner.Event{Kind: runner.RunStart, Time: t0, RunID: "r1", Hosts: []string{"fe01"}})
	report.Emit(runner.Event{Kind: runner.RunEnd, Time: t0.Add(time.Minute), Status: runner.StatusOK, Msg: "success"})

	// What the events do not carry.
	report.SetVersions("fe01", "11.29.1", "11.31.0")
	report.RotationChange(t0.Add(10*time.Second), "fe01", "drained")
	report.SetTraffic(1200, 0)
	report.SetRecap(&runner.Recap{RunID: "r1", Outcome: runner.OutcomeSuccess, Duration: time.Minute,
		Hosts: []runner.HostRecap{{Host: "fe01", Changed: 1}}})

	dir, _ := os.MkdirTemp("", "osrun-report")
	defer os.RemoveAll(dir)
	f, err := os.Create(filepath.Join(dir, "run.html"))
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if _, err := report.WriteTo(f); err != nil {
		panic(err)
	}
	// Output:
}
