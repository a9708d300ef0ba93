package junit

import (
	"bytes"
	"encoding/xml"
	"testing"
	"time"

	"github.com/osrun/osrun/runner"
)

type parsed struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Time     string `xml:"time,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
			} `xml:"failure"`
			Error   *struct{} `xml:"error"`
			Skipped *struct{} `xml:"skipped"`
			Props   []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"properties>property"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestReportStructure(t *testing.T) {
	c := New("upgrade.hcl")
	t0 := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	events := []runner.Event{
		{Kind: runner.RunStart, Time: t0},
		{Kind: runner.WaveStart, Wave: "drain", Time: t0},
		{Kind: runner.HostTaskEnd, Wave: "drain", Task: "lb_member.out", Host: "fe01", Status: runner.StatusChanged, Duration: 1500 * time.Millisecond},
		{Kind: runner.HostTaskEnd, Wave: "drain", Task: "lb_member.out", Host: "fe02", Status: runner.StatusOK, Duration: time.Second},
		{Kind: runner.WaveStart, Wave: "upgrade", Time: t0.Add(time.Minute)},
		{Kind: runner.HostTaskEnd, Wave: "upgrade", Task: "installer.platform", Host: "fe01", Status: runner.StatusFailed, Error: "installer exited with status 2 <log tail>"},
		{Kind: runner.HostTaskEnd, Wave: "upgrade", Task: "installer.platform", Host: "fe02", Status: runner.StatusSkipped, Msg: "when is false"},
		{Kind: runner.HostTaskEnd, Wave: "upgrade", Task: "installer.platform", Host: "fe03", Status: runner.StatusUnreachable, Error: "dial: refused"},
		{Kind: runner.HostTaskEnd, Wave: "upgrade", Task: "installer.platform", Host: "fe04", Status: runner.StatusInterrupted, Error: "context canceled"},
	}
	for _, e := range events {
		c.Emit(e)
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	var got parsed
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("report is not well-formed XML: %v\n%s", err, buf.String())
	}
	if got.Tests != 6 || got.Failures != 2 || got.Errors != 1 || got.Skipped != 1 {
		t.Errorf("totals tests=%d failures=%d errors=%d skipped=%d, want 6/2/1/1", got.Tests, got.Failures, got.Errors, got.Skipped)
	}
	if len(got.Suites) != 2 || got.Suites[0].Name != "drain" || got.Suites[1].Name != "upgrade" {
		t.Fatalf("suites = %+v", got.Suites)
	}
	if got.Suites[0].Time != "2.500" {
		t.Errorf("drain suite time = %q, want 2.500", got.Suites[0].Time)
	}
	for _, s := range got.Suites {
		sum := 0
		for _, tc := range s.Cases {
			if tc.Name == "" || tc.Classname == "" || tc.Time == "" {
				t.Errorf("case %+v lacks a required attribute", tc)
			}
			if tc.Failure != nil {
				sum++
			}
		}
		if sum != s.Failures || len(s.Cases) != s.Tests {
			t.Errorf("suite %s counts do not match its cases", s.Name)
		}
	}
	up := got.Suites[1].Cases
	if up[0].Failure == nil || up[0].Failure.Message != "installer exited with status 2 <log tail>" || up[0].Failure.Type != "failed" {
		t.Errorf("failed case = %+v", up[0])
	}
	if up[1].Skipped == nil || up[2].Failure == nil || up[2].Failure.Type != "unreachable" || up[3].Error == nil {
		t.Errorf("skipped/unreachable/interrupted cases wrong: %+v", up)
	}
	changed := got.Suites[0].Cases[0]
	if changed.Failure != nil || changed.Skipped != nil {
		t.Errorf("a changed task must pass: %+v", changed)
	}
	if changed.Props[1].Name != "status" || changed.Props[1].Value != "changed" {
		t.Errorf("changed status not kept in properties: %+v", changed.Props)
	}
}
