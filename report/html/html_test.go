package html

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/osrun/osrun/runner"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// farmReport renders the synthetic farm run with everything the CLI and
// the lab can add.
func farmReport(t *testing.T) []byte {
	t.Helper()
	evs, recap := farmEvents()
	if !timeOrdered(evs) {
		t.Fatal("the synthetic stream is not in time order")
	}
	c := New("Upgrade to Platform Server 11.31", WithPlaybook("playbooks/upgrade.hcl"), WithInventory("farm/prod.hcl"))
	for _, e := range evs {
		c.Emit(e)
	}
	c.SetRecap(recap)
	c.SetTraffic(12873, 3)
	var buf bytes.Buffer
	n, err := c.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Errorf("WriteTo returned %d, wrote %d bytes", n, buf.Len())
	}
	return buf.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the report (go test ./report/html -update rewrites it; review the diff)", path)
	}
}

func TestGolden(t *testing.T) {
	first := farmReport(t)
	if again := farmReport(t); !bytes.Equal(first, again) {
		t.Fatal("two reports of the same events differ")
	}
	golden(t, "farm.html", first)
}

func TestSelfContained(t *testing.T) {
	out := string(farmReport(t))
	// Nothing may be fetched: no src, no stylesheet links, no URLs but the
	// report's own anchors and the SVG namespace the browser implies.
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)\ssrc=`),
		regexp.MustCompile(`(?i)<link\b`),
		regexp.MustCompile(`(?i)<script\b`),
		regexp.MustCompile(`(?i)url\(`),
		regexp.MustCompile(`(?i)@import`),
		regexp.MustCompile(`(?i)href="[^#]`),
	} {
		if loc := bad.FindStringIndex(out); loc != nil {
			t.Errorf("report is not self-contained: %q at %d", out[loc[0]:min(loc[1]+40, len(out))], loc[0])
		}
	}
}

func TestEscapesHostText(t *testing.T) {
	const evil = `<script>alert("x")</script><img src=x onerror=alert(1)>`
	t0 := farmStart
	c := New(`Run <b>title</b>`, WithPlaybook(`"><svg onload=alert(1)>`))
	for _, e := range []runner.Event{
		{Kind: runner.RunStart, Time: t0, RunID: `id"<`, Hosts: []string{"fe<01>"}},
		{Kind: runner.WaveStart, Time: t0, Wave: "w</title>", WaveNum: 1, Waves: 1, Msg: evil},
		{Kind: runner.HostTaskStart, Time: t0, Wave: "w</title>", Task: "command.x<y>", Module: "command", Host: "fe<01>"},
		{Kind: runner.Progress, Time: t0.Add(time.Second), Wave: "w</title>", Task: "command.x<y>", Module: "command", Host: "fe<01>", Msg: evil},
		{Kind: runner.HostTaskEnd, Time: t0.Add(2 * time.Second), Wave: "w</title>", Task: "command.x<y>", Module: "command", Host: "fe<01>",
			Status: runner.StatusFailed, Msg: evil, Error: "exit 1\n" + evil, Duration: 2 * time.Second},
		{Kind: runner.RunEnd, Time: t0.Add(3 * time.Second), Status: runner.StatusFailed, Msg: "failed"},
	} {
		c.Emit(e)
	}
	c.SetVersions("fe<01>", "<11>", evil)
	c.RotationChange(t0, "fe<01>", evil)
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, raw := range []string{"<script", "<img", "<svg onload", "<b>title", "fe<01>", "w</title>"} {
		if strings.Contains(out, raw) {
			t.Errorf("report contains unescaped %q", raw)
		}
	}
	for _, esc := range []string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "fe&lt;01&gt;", "Run &lt;b&gt;title&lt;/b&gt;"} {
		if !strings.Contains(out, esc) {
			t.Errorf("report lacks the escaped text %q", esc)
		}
	}
	// The failure shows its error and the progress line before it.
	if !strings.Contains(out, `<pre class="error">exit 1`) || !strings.Contains(out, `<pre class="tail">&lt;script&gt;`) {
		t.Error("failure section lacks its error or log tail")
	}
}

func TestReadsModuleMessages(t *testing.T) {
	evs, _ := farmEvents()
	c := New("farm")
	for _, e := range evs {
		c.Emit(e)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.build()

	wantVersions := []versionRow{
		{Host: "fe01", Before: "11.29.1", After: "11.31.0", Change: "upgraded"},
		{Host: "fe02", Before: "11.29.1", After: "11.31.0", Change: "upgraded"},
		{Host: "fe03", Before: "11.29.1", After: "11.31.0", Change: "upgraded"},
	}
	if len(p.Versions) != len(wantVersions) {
		t.Fatalf("versions = %+v, want %+v", p.Versions, wantVersions)
	}
	for i, v := range wantVersions {
		if p.Versions[i] != v {
			t.Errorf("versions[%d] = %+v, want %+v", i, p.Versions[i], v)
		}
	}

	states := map[string][]string{}
	for _, b := range p.Rotation.Bars {
		states[b.Host] = append(states[b.Host], b.Status)
	}
	want := map[string]string{
		"fe01": "enabled drained disabled enabled",
		"fe02": "enabled drained disabled enabled",
		"fe03": "enabled drained disabled enabled",
		"fe04": "enabled drained disabled", // its installer failed: it stays out
	}
	for h, w := range want {
		if got := strings.Join(states[h], " "); got != w {
			t.Errorf("rotation of %s = %q, want %q", h, got, w)
		}
	}
}

func TestExplicitInputsWin(t *testing.T) {
	evs, _ := farmEvents()
	c := New("farm")
	c.SetVersions("fe01", "11.29.1", "11.31.2") // set before the events
	for _, e := range evs {
		c.Emit(e)
	}
	c.RotationChange(farmStart.Add(time.Minute), "fe02", "disabled")
	c.RotationChange(farmStart, "fe02", "enabled") // out of order on purpose
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.build()
	if p.Versions[0].After != "11.31.2" {
		t.Errorf("fe01 after = %q, want the explicit 11.31.2", p.Versions[0].After)
	}
	var fe02 []string
	for _, b := range p.Rotation.Bars {
		if b.Host == "fe02" {
			fe02 = append(fe02, b.Status)
		}
	}
	if got := strings.Join(fe02, " "); got != "enabled disabled" {
		t.Errorf("fe02 rotation = %q, want the explicit changes in time order", got)
	}
}

func TestRecapFromEvents(t *testing.T) {
	evs, recap := farmEvents()
	c := New("farm")
	for _, e := range evs {
		c.Emit(e)
	}
	c.mu.Lock()
	p := c.build()
	c.mu.Unlock()
	if !p.Recap.FromEvents {
		t.Error("recap without SetRecap should say it was counted from events")
	}
	for i, want := range recap.Hosts {
		got := p.Recap.Rows[i].HostRecap
		want.Error = firstLine(want.Error)
		if got != want {
			t.Errorf("recap of %s = %+v, want %+v", want.Host, got, want)
		}
	}
	if p.Recap.Rows[3].Class != "host-failed" {
		t.Errorf("fe04 row class = %q, want host-failed", p.Recap.Rows[3].Class)
	}
}

func TestHeader(t *testing.T) {
	t0 := farmStart
	tests := []struct {
		name        string
		events      []runner.Event
		recap       *runner.Recap
		wantOutcome string
		wantMode    string
		wantDur     string
		wantStop    string // in the page, when set
	}{
		{
			name:        "no events",
			wantOutcome: "incomplete", wantMode: "apply", wantDur: "0s",
		},
		{
			name: "still running",
			events: []runner.Event{
				{Kind: runner.RunStart, Time: t0, Check: true},
				{Kind: runner.HostTaskStart, Time: t0.Add(90 * time.Second), Host: "fe01", Task: "command.x"},
			},
			wantOutcome: "incomplete", wantMode: "check", wantDur: "1m30s",
		},
		{
			name: "ended",
			events: []runner.Event{
				{Kind: runner.RunStart, Time: t0},
				{Kind: runner.RunEnd, Time: t0.Add(5 * time.Second), Status: runner.StatusInterrupted, Msg: "interrupted", Duration: 5 * time.Second},
			},
			wantOutcome: "interrupted", wantMode: "apply", wantDur: "5s",
		},
		{
			name:        "recap wins",
			events:      []runner.Event{{Kind: runner.RunEnd, Time: t0, Msg: "failed"}},
			recap:       &runner.Recap{Outcome: runner.OutcomeBudgetExceeded, StoppedAt: "loaded", StopReason: "a step was not approved", Duration: 61 * time.Second},
			wantOutcome: "budget_exceeded", wantMode: "apply", wantDur: "1m1s",
			wantStop: "stopped at wave <code>loaded</code>: a step was not approved",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New("t")
			for _, e := range tt.events {
				c.Emit(e)
			}
			if tt.recap != nil {
				c.SetRecap(tt.recap)
			}
			var buf bytes.Buffer
			if _, err := c.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			c.mu.Lock()
			p := c.build()
			c.mu.Unlock()
			if p.Outcome != tt.wantOutcome || p.Mode != tt.wantMode || p.Duration != tt.wantDur {
				t.Errorf("outcome, mode, duration = %q, %q, %q; want %q, %q, %q", p.Outcome, p.Mode, p.Duration, tt.wantOutcome, tt.wantMode, tt.wantDur)
			}
			if !strings.Contains(buf.String(), `id="outcome" class="badge outcome-`+classToken(tt.wantOutcome)+`">`+tt.wantOutcome+`<`) {
				t.Error("outcome badge missing from the page")
			}
			if tt.wantStop != "" && !strings.Contains(buf.String(), tt.wantStop) {
				t.Errorf("the page does not say %q", tt.wantStop)
			}
		})
	}
}

func TestUnfinishedTask(t *testing.T) {
	t0 := farmStart
	c := New("t")
	c.Emit(runner.Event{Kind: runner.RunStart, Time: t0, Hosts: []string{"fe01"}})
	c.Emit(runner.Event{Kind: runner.HostTaskStart, Time: t0, Host: "fe01", Task: "installer.platform", Wave: "w"})
	c.Emit(runner.Event{Kind: runner.Progress, Time: t0.Add(time.Minute), Host: "fe01", Task: "installer.platform", Wave: "w", Msg: "installer running"})
	c.mu.Lock()
	p := c.build()
	c.mu.Unlock()
	if len(p.Timeline.Bars) != 1 || p.Timeline.Bars[0].Status != "unfinished" || p.Timeline.Bars[0].W != f1(plotRight-minLeft) {
		t.Errorf("bars = %+v, want one unfinished bar across the whole axis", p.Timeline.Bars)
	}
	if len(p.Failures) != 0 {
		t.Errorf("an unfinished task is not a failure: %+v", p.Failures)
	}
}

func TestRoomForLongHostNames(t *testing.T) {
	long := "frontend-lisbon-01.corp.example.com"
	tests := []struct {
		host string
		want int
	}{
		{"fe01", minLeft},
		{long, int(float64(len(long))*charWidth) + 16},
		{strings.Repeat(long, 5), maxLeft},
	}
	for _, tt := range tests {
		c := New("t")
		c.Emit(runner.Event{Kind: runner.RunStart, Time: farmStart, Hosts: []string{tt.host}})
		c.mu.Lock()
		p := c.build()
		c.mu.Unlock()
		if p.Timeline.PlotLeft != tt.want || p.Timeline.Rows[0].LabelX != tt.want-8 {
			t.Errorf("host %q: plot starts at %d, label at %d; want %d, %d", tt.host, p.Timeline.PlotLeft, p.Timeline.Rows[0].LabelX, tt.want, tt.want-8)
		}
	}
}

func TestTicks(t *testing.T) {
	tests := []struct {
		span time.Duration
		want string
	}{
		{36 * time.Millisecond, "0s 5ms 10ms 15ms 20ms 25ms 30ms 35ms"},
		{4 * time.Second, "0s 500ms 1s 1.5s 2s 2.5s 3s 3.5s 4s"},
		{time.Second, "0s 100ms 200ms 300ms 400ms 500ms 600ms 700ms 800ms 900ms 1s"},
		{9 * time.Second, "0:00 0:01 0:02 0:03 0:04 0:05 0:06 0:07 0:08 0:09"},
		{25 * time.Second, "0:00 0:05 0:10 0:15 0:20 0:25"},
		{24 * time.Minute, "0:00 5:00 10:00 15:00 20:00"},
		{3*time.Hour + time.Minute, "0:00 30:00 1:00:00 1:30:00 2:00:00 2:30:00 3:00:00"},
	}
	for _, tt := range tests {
		var got []string
		offsets, step := ticks(tt.span)
		for _, d := range offsets {
			got = append(got, tickLabel(d, step))
		}
		if s := strings.Join(got, " "); s != tt.want {
			t.Errorf("ticks(%s) = %q, want %q", tt.span, s, tt.want)
		}
	}
}

func TestModuleMessageParsing(t *testing.T) {
	tests := []struct {
		msg      string
		from, to string
	}{
		{"fe01 enabled -> disabled (0 sessions)", "enabled", "disabled"},
		{"fe01 enabled -> drained (1 session)", "enabled", "drained"},
		{"fe01 is already enabled (3 sessions)", "enabled", "enabled"},
		{"fe01 disabled after drain_timeout 5m0s; cut 2 sessions", "drained", "disabled"},
		{"would drain fe01 (3 sessions)", "", ""},
	}
	for _, tt := range tests {
		if from, to := endRotation(tt.msg); from != tt.from || to != tt.to {
			t.Errorf("endRotation(%q) = %q, %q; want %q, %q", tt.msg, from, to, tt.from, tt.to)
		}
	}
	versionTests := []struct {
		msg  string
		want versions
		ok   bool
	}{
		{"upgraded 11.29.1 → 11.31.0", versions{"11.29.1", "11.31.0"}, true},
		{"upgraded 11.29.1 → 11.31.0; the installer asked for a reboot (exit 3010)", versions{"11.29.1", "11.31.0"}, true},
		{"Platform Server 11.31.0 is installed", versions{"11.31.0", "11.31.0"}, true},
		{"finished the configuration of 11.31.0", versions{"", "11.31.0"}, true},
		{"would upgrade 11.29.1 → 11.31.0", versions{}, false},
	}
	for _, tt := range versionTests {
		if got, ok := installerVersions(tt.msg); got != tt.want || ok != tt.ok {
			t.Errorf("installerVersions(%q) = %+v, %v; want %+v, %v", tt.msg, got, ok, tt.want, tt.ok)
		}
	}
}

func TestConcurrentInputs(t *testing.T) {
	evs, _ := farmEvents()
	c := New("farm")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			c.SetTraffic(i, 0)
		}
	}()
	for _, e := range evs {
		c.Emit(e)
	}
	<-done
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "199 sent, 0 failed") {
		t.Error("last traffic counters missing")
	}
}

// Streams the runner does not emit must still give a report, not a panic:
// the collector may be fed by a journal replay or a cancelled run.
func TestOddStreams(t *testing.T) {
	t0 := farmStart
	tests := []struct {
		name   string
		events []runner.Event
	}{
		{"zero times", []runner.Event{
			{Kind: runner.RunStart}, {Kind: runner.HostTaskStart, Host: "fe01", Task: "a.b"}, {Kind: runner.HostTaskEnd, Host: "fe01", Task: "a.b", Status: runner.StatusOK},
		}},
		{"end without start", []runner.Event{
			{Kind: runner.HostTaskEnd, Time: t0, Host: "fe01", Task: "a.b", Status: runner.StatusFailed, Duration: time.Minute, Error: "boom"},
			{Kind: runner.WaveEnd, Time: t0, Wave: "never-started", Status: runner.StatusFailed},
		}},
		{"time going backwards", []runner.Event{
			{Kind: runner.RunStart, Time: t0.Add(time.Hour)},
			{Kind: runner.WaveStart, Time: t0, Wave: "w", WaveNum: 1, Waves: 1},
			{Kind: runner.HostTaskStart, Time: t0.Add(2 * time.Hour), Wave: "w", Host: "fe01", Task: "lb_member.x", Module: "lb_member"},
			{Kind: runner.HostTaskEnd, Time: t0.Add(time.Minute), Wave: "w", Host: "fe01", Task: "lb_member.x", Module: "lb_member", Status: runner.StatusChanged, Msg: "fe01 enabled -> disabled (0 sessions)"},
		}},
		{"progress of an unknown task", []runner.Event{
			{Kind: runner.Progress, Time: t0, Host: "fe09", Task: "lb_member.x", Module: "lb_member", Msg: "draining fe09: 1 session left"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New("odd")
			for _, e := range tt.events {
				c.Emit(e)
			}
			var buf bytes.Buffer
			if _, err := c.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if !strings.HasSuffix(strings.TrimSpace(out), "</html>") {
				t.Error("report is cut short")
			}
			for _, bad := range []string{`width="-`, `x="-`, "NaN", "Inf"} {
				if strings.Contains(out, bad) {
					t.Errorf("report has a broken coordinate %q", bad)
				}
			}
		})
	}
}
