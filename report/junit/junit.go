// Package junit writes a run as a JUnit XML report, for CI systems that
// show test results: one test suite per wave, one test case per host and
// task. Failed and unreachable tasks are failures, skipped tasks are
// skipped, interrupted tasks are errors; ok and changed tasks pass (the
// status is kept in the case's properties so "changed" stays visible).
//
// Entry points: New returns a Collector (a runner.Sink); WriteTo writes the
// report once the run has ended.
package junit

import (
	"encoding/xml"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/osrun/osrun/runner"
)

// Collector gathers host task results from a run's events.
type Collector struct {
	mu     sync.Mutex
	name   string
	start  time.Time
	suites []*suite
	byWave map[string]*suite
}

type suite struct {
	name  string
	start time.Time
	cases []testCase
}

type testCase struct {
	task, host string
	status     runner.Status
	duration   time.Duration
	msg, err   string
}

// New returns a collector; name labels the report (e.g. the playbook).
func New(name string) *Collector {
	return &Collector{name: name, byWave: map[string]*suite{}}
}

// Emit records one event.
func (c *Collector) Emit(e runner.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch e.Kind {
	case runner.RunStart:
		c.start = e.Time
	case runner.WaveStart:
		s := &suite{name: e.Wave, start: e.Time}
		c.suites = append(c.suites, s)
		c.byWave[e.Wave] = s
	case runner.HostTaskEnd:
		s := c.byWave[e.Wave]
		if s == nil {
			s = &suite{name: e.Wave, start: e.Time}
			c.suites = append(c.suites, s)
			c.byWave[e.Wave] = s
		}
		s.cases = append(s.cases, testCase{task: e.Task, host: e.Host, status: e.Status, duration: e.Duration, msg: e.Msg, err: e.Error})
	}
}

// The XML shapes follow the common JUnit schema (testsuites > testsuite >
// testcase with failure / error / skipped children) that Jenkins, GitLab,
// GitHub and Azure DevOps read.
type xmlSuites struct {
	XMLName  xml.Name   `xml:"testsuites"`
	Name     string     `xml:"name,attr"`
	Tests    int        `xml:"tests,attr"`
	Failures int        `xml:"failures,attr"`
	Errors   int        `xml:"errors,attr"`
	Skipped  int        `xml:"skipped,attr"`
	Time     string     `xml:"time,attr"`
	Suites   []xmlSuite `xml:"testsuite"`
}

type xmlSuite struct {
	Name      string    `xml:"name,attr"`
	Tests     int       `xml:"tests,attr"`
	Failures  int       `xml:"failures,attr"`
	Errors    int       `xml:"errors,attr"`
	Skipped   int       `xml:"skipped,attr"`
	Time      string    `xml:"time,attr"`
	Timestamp string    `xml:"timestamp,attr,omitempty"`
	Cases     []xmlCase `xml:"testcase"`
}

type xmlCase struct {
	Name       string      `xml:"name,attr"`
	Classname  string      `xml:"classname,attr"`
	Time       string      `xml:"time,attr"`
	Properties *xmlProps   `xml:"properties,omitempty"`
	Failure    *xmlProblem `xml:"failure,omitempty"`
	Error      *xmlProblem `xml:"error,omitempty"`
	Skipped    *xmlSkipped `xml:"skipped,omitempty"`
	SystemOut  string      `xml:"system-out,omitempty"`
}

type xmlProps struct {
	Props []xmlProp `xml:"property"`
}

type xmlProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type xmlProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type xmlSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteTo writes the report collected so far.
func (c *Collector) WriteTo(w io.Writer) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := xmlSuites{Name: c.name}
	var total time.Duration
	for _, s := range c.suites {
		xs := xmlSuite{Name: s.name}
		if !s.start.IsZero() {
			xs.Timestamp = s.start.UTC().Format("2006-01-02T15:04:05")
		}
		var st time.Duration
		for _, tc := range s.cases {
			xc := xmlCase{
				Name:       tc.host + " " + tc.task,
				Classname:  s.name + "." + tc.task,
				Time:       seconds(tc.duration),
				Properties: &xmlProps{Props: []xmlProp{{Name: "host", Value: tc.host}, {Name: "status", Value: string(tc.status)}}},
				SystemOut:  tc.msg,
			}
			switch tc.status {
			case runner.StatusFailed, runner.StatusUnreachable:
				xc.Failure = &xmlProblem{Message: tc.err, Type: string(tc.status), Text: tc.err}
				xs.Failures++
			case runner.StatusInterrupted:
				xc.Error = &xmlProblem{Message: tc.err, Type: string(tc.status), Text: tc.err}
				xs.Errors++
			case runner.StatusSkipped:
				xc.Skipped = &xmlSkipped{Message: tc.msg}
				xs.Skipped++
			}
			st += tc.duration
			xs.Cases = append(xs.Cases, xc)
		}
		xs.Tests = len(xs.Cases)
		xs.Time = seconds(st)
		total += st
		out.Tests += xs.Tests
		out.Failures += xs.Failures
		out.Errors += xs.Errors
		out.Skipped += xs.Skipped
		out.Suites = append(out.Suites, xs)
	}
	out.Time = seconds(total)
	data, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return 0, fmt.Errorf("junit: encode report: %w", err)
	}
	n, err := io.WriteString(w, xml.Header+string(data)+"\n")
	return int64(n), err
}
