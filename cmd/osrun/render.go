package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/osrun/osrun/runner"
)

// textSink prints one line per event: readable in a terminal and in CI logs.
type textSink struct {
	w     io.Writer
	diff  bool
	color bool
	// Host results of the current task are held until the task ends and
	// printed in batch order, so the output does not depend on which host
	// finished first.
	order   []string
	pending map[string]runner.Event
}

// versionLog keeps, per host, the platform version before the run and the
// latest one after, from the version_before / version_after outputs the
// installer module reports.
type versionLog map[string]*[2]string

// Emit records the versions an installer task reported.
func (v versionLog) Emit(e runner.Event) {
	if e.Kind != runner.HostTaskEnd || e.Module != "installer" || len(e.Output) == 0 {
		return
	}
	var out struct {
		Value struct {
			Before string `json:"version_before"`
			After  string `json:"version_after"`
		} `json:"value"`
	}
	if json.Unmarshal(e.Output, &out) != nil || out.Value.After == "" {
		return
	}
	p := v[e.Host]
	if p == nil {
		p = &[2]string{out.Value.Before, ""}
		v[e.Host] = p
	}
	p[1] = out.Value.After
}

func newTextSink(w io.Writer, diff, color bool) *textSink {
	return &textSink{w: w, diff: diff, color: color}
}

func (s *textSink) Emit(e runner.Event) {
	switch e.Kind {
	case runner.RunStart:
		mode := "apply"
		if e.Check {
			mode = "check (nothing will be changed)"
		}
		fmt.Fprintf(s.w, "osrun run %s: %s, %d waves\n", e.RunID, mode, e.Waves)
	case runner.WaveStart:
		label := "WAVE"
		if e.OnFailure {
			label = "ON FAILURE"
		}
		fmt.Fprintf(s.w, "\n%s\n", s.paint(bold, fmt.Sprintf("%s %d/%d %s  [%s]", label, e.WaveNum, e.Waves, e.Wave, strings.Join(e.Hosts, ", "))))
		if e.Msg != "" {
			fmt.Fprintf(s.w, "  %s\n", e.Msg)
		}
	case runner.BatchStart:
		if e.Batches > 1 {
			fmt.Fprintf(s.w, "  batch %d/%d: %s\n", e.Batch, e.Batches, strings.Join(e.Hosts, ", "))
		}
	case runner.TaskStart:
		fmt.Fprintf(s.w, "  task %s\n", e.Task)
		s.order = e.Hosts
		s.pending = map[string]runner.Event{}
	case runner.HostTaskEnd:
		if s.pending == nil {
			s.hostLine(e)
			return
		}
		s.pending[e.Host] = e
	case runner.TaskEnd:
		for _, h := range s.order {
			if he, ok := s.pending[h]; ok {
				s.hostLine(he)
				delete(s.pending, h)
			}
		}
		for _, he := range s.pending { // hosts not announced at TaskStart
			s.hostLine(he)
		}
		s.order, s.pending = nil, nil
	case runner.Progress:
		fmt.Fprintf(s.w, "    %-14s ...         %s\n", e.Host, e.Msg)
	case runner.WaveEnd:
		if e.Status != "" && e.Status != runner.StatusOK && e.Status != runner.StatusChanged {
			fmt.Fprintf(s.w, "  wave %s: %s %s\n", e.Wave, s.status(e.Status), e.Msg)
		}
	}
}

func (s *textSink) hostLine(e runner.Event) {
	line := fmt.Sprintf("    %-14s %-11s %6s", e.Host, s.status(e.Status), round(e.Duration))
	if e.Msg != "" {
		line += "  " + e.Msg
	}
	if e.Error != "" {
		line += "  " + s.paint(red, e.Error)
	}
	fmt.Fprintln(s.w, line)
	if s.diff && e.Diff != "" {
		fmt.Fprintln(s.w, indent(e.Diff, "        "))
	}
}

func round(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

const (
	bold  = "1"
	red   = "31"
	green = "32"
	amber = "33"
	cyan  = "36"
)

func (s *textSink) paint(code, text string) string {
	if !s.color {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

func (s *textSink) status(st runner.Status) string {
	switch st {
	case runner.StatusOK:
		return s.paint(green, string(st))
	case runner.StatusChanged:
		return s.paint(amber, string(st))
	case runner.StatusFailed, runner.StatusUnreachable, runner.StatusInterrupted:
		return s.paint(red, string(st))
	case runner.StatusSkipped:
		return s.paint(cyan, string(st))
	}
	return string(st)
}

// EventSchema is the version of the JSON Lines event format (README.md,
// "JSON events"). It changes only when a field changes meaning or goes
// away; new fields may appear within a version.
const EventSchema = 1

// jsonSink prints events as JSON Lines for CI pipelines.
type jsonSink struct{ enc *json.Encoder }

func newJSONSink(w io.Writer) *jsonSink { return &jsonSink{enc: json.NewEncoder(w)} }

func (s *jsonSink) Emit(e runner.Event) {
	_ = s.enc.Encode(struct {
		Schema int `json:"schema"`
		runner.Event
	}{EventSchema, e})
}

func printRecap(w io.Writer, r *runner.Recap, versions versionLog) {
	fmt.Fprintf(w, "\nRECAP (%s)\n", r.Outcome)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	interrupted := false
	for _, h := range r.Hosts {
		interrupted = interrupted || h.Interrupted > 0
	}
	header := "HOST\tOK\tCHANGED\tFAILED\tSKIPPED\tUNREACHABLE\tIGNORED"
	if interrupted {
		header += "\tINTERRUPTED"
	}
	if len(versions) > 0 {
		header += "\tVERSION"
	}
	fmt.Fprintln(tw, header)
	for _, h := range r.Hosts {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d", h.Host, h.OK, h.Changed, h.Failed, h.Skipped, h.Unreachable, h.Ignored)
		if interrupted {
			fmt.Fprintf(tw, "\t%d", h.Interrupted)
		}
		if len(versions) > 0 {
			if v := versions[h.Host]; v != nil {
				fmt.Fprintf(tw, "\t%s → %s", v[0], v[1])
			} else {
				fmt.Fprint(tw, "\t-")
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if of := r.OnFailure; of != nil {
		fmt.Fprintf(w, "\nON FAILURE (%s)\n", of.Outcome)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "HOST\tOK\tCHANGED\tFAILED\tSKIPPED\tUNREACHABLE")
		for _, h := range of.Hosts {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", h.Host, h.OK, h.Changed, h.Failed, h.Skipped, h.Unreachable)
		}
		tw.Flush()
	}
}

func printPlan(w io.Writer, p *runner.PlanResult) {
	printWaves(w, "wave", p.Waves)
	if len(p.OnFailure) > 0 {
		fmt.Fprintln(w, "\nif the run stops on a failure or an interrupt:")
		printWaves(w, "on_failure", p.OnFailure)
	}
}

func printWaves(w io.Writer, label string, waves []runner.PlanWave) {
	for i, wave := range waves {
		fmt.Fprintf(w, "%s %d/%d %s", label, i+1, len(waves), wave.Name)
		if wave.Description != "" {
			fmt.Fprintf(w, " — %s", wave.Description)
		}
		fmt.Fprintln(w)
		for j, b := range wave.Batches {
			fmt.Fprintf(w, "  batch %d/%d: %s\n", j+1, len(wave.Batches), strings.Join(b.Hosts, ", "))
		}
		for _, t := range wave.Tasks {
			fmt.Fprintf(w, "    task %s (on %s)\n", t.Task, t.On)
		}
	}
}
