package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/osrun/osrun/runner"
)

// syntheticRun is a short run with every kind of outcome, in the order the
// runner emits events, with fixed times so the output is reproducible.
func syntheticRun() ([]runner.Event, *runner.Recap) {
	t0 := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ev := []runner.Event{
		{Kind: runner.RunStart, Time: at(0), RunID: "r1", Waves: 2},
		{Kind: runner.WaveStart, Time: at(1), Wave: "drain", WaveNum: 1, Waves: 2, Hosts: []string{"fe01", "fe02"}, Msg: "Load balancer: drain the updating front-ends"},
		{Kind: runner.BatchStart, Time: at(1), Wave: "drain", Batch: 1, Batches: 1, Hosts: []string{"fe01", "fe02"}},
		{Kind: runner.TaskStart, Time: at(2), Wave: "drain", Task: "lb_member.out", Hosts: []string{"fe01", "fe02"}},
		{Kind: runner.Progress, Time: at(500), Wave: "drain", Task: "lb_member.out", Host: "fe02", Msg: "draining: 3 sessions"},
		// fe02 finishes first; the text output still lists fe01 first.
		{Kind: runner.HostTaskEnd, Time: at(900), Wave: "drain", Task: "lb_member.out", Host: "fe02", Status: runner.StatusChanged, Duration: 898 * time.Millisecond, Msg: "fe02 enabled -> disabled", Diff: "- enabled\n+ disabled"},
		{Kind: runner.HostTaskEnd, Time: at(1500), Wave: "drain", Task: "lb_member.out", Host: "fe01", Status: runner.StatusOK, Duration: 1498 * time.Millisecond, Msg: "already disabled"},
		{Kind: runner.TaskEnd, Time: at(1500), Wave: "drain", Task: "lb_member.out", Status: runner.StatusChanged},
		{Kind: runner.WaveEnd, Time: at(1500), Wave: "drain", Status: runner.StatusChanged},
		{Kind: runner.WaveStart, Time: at(1501), Wave: "upgrade", WaveNum: 2, Waves: 2, Hosts: []string{"fe01", "fe02"}},
		{Kind: runner.BatchStart, Time: at(1501), Wave: "upgrade", Batch: 1, Batches: 2, Hosts: []string{"fe01"}},
		{Kind: runner.TaskStart, Time: at(1502), Wave: "upgrade", Task: "installer.platform", Hosts: []string{"fe01"}},
		{Kind: runner.HostTaskEnd, Time: at(4000), Wave: "upgrade", Task: "installer.platform", Module: "installer", Host: "fe01", Status: runner.StatusFailed, Duration: 2498 * time.Millisecond, Error: "installer exited with status 2"},
		{Kind: runner.HostTaskEnd, Time: at(4000), Wave: "upgrade", Task: "installer.platform", Module: "installer", Host: "fe02", Status: runner.StatusChanged, Duration: 2498 * time.Millisecond, Msg: "upgraded 11.30.0 → 11.31.0",
			Output: []byte(`{"value":{"version_after":"11.31.0","version_before":"11.30.0"},"type":["object",{"version_after":"string","version_before":"string"}]}`)},
		{Kind: runner.TaskEnd, Time: at(4000), Wave: "upgrade", Task: "installer.platform", Status: runner.StatusFailed},
		{Kind: runner.WaveEnd, Time: at(4000), Wave: "upgrade", Status: runner.StatusFailed, Msg: "1 of 2 hosts failed, above max_fail_percentage 0: stopping"},
		{Kind: runner.RunEnd, Time: at(4001), Status: runner.StatusFailed, Msg: "budget_exceeded"},
	}
	recap := &runner.Recap{RunID: "r1", Outcome: runner.OutcomeBudgetExceeded, Hosts: []runner.HostRecap{
		{Host: "fe01", OK: 1, Failed: 1},
		{Host: "fe02", Changed: 1},
	}}
	return ev, recap
}

func TestRenderGolden(t *testing.T) {
	events, recap := syntheticRun()
	tests := []struct {
		name   string
		render func(*bytes.Buffer)
	}{
		{"text.golden", func(b *bytes.Buffer) {
			s := newTextSink(b, true, false)
			for _, e := range events {
				s.Emit(e)
			}
			versions := versionLog{}
			for _, e := range events {
				versions.Emit(e)
			}
			printRecap(b, recap, versions)
		}},
		{"text-color.golden", func(b *bytes.Buffer) {
			s := newTextSink(b, false, true)
			for _, e := range events {
				s.Emit(e)
			}
		}},
		{"events.jsonl.golden", func(b *bytes.Buffer) {
			s := newJSONSink(b)
			for _, e := range events {
				s.Emit(e)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got bytes.Buffer
			tt.render(&got)
			path := filepath.Join("testdata", "golden", tt.name)
			if *update {
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s differs from the golden file (run with -update after checking the change):\n%s", tt.name, got.String())
			}
		})
	}
}

func TestPlainOutputHasNoEscapes(t *testing.T) {
	events, recap := syntheticRun()
	var b bytes.Buffer
	s := newTextSink(&b, false, false)
	for _, e := range events {
		s.Emit(e)
	}
	printRecap(&b, recap, nil)
	if bytes.Contains(b.Bytes(), []byte("\x1b[")) {
		t.Errorf("colour codes without colour:\n%q", b.String())
	}
}
