package live

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/osrun/osrun/runner"
)

var t0 = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

// sgr matches colour codes; cursor movement is not colour.
var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// clock is a settable time for elapsed times.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// ev fills the fields every event of the test run shares.
func ev(kind runner.Kind, at time.Duration, e runner.Event) runner.Event {
	e.Kind, e.Time, e.RunID = kind, t0.Add(at), "run-42"
	return e
}

// midRun is the start of a two-wave run, stopped in wave 2 while fe03
// drains and fe04's installer has just failed.
func midRun() []runner.Event {
	w1 := runner.Event{Wave: "updating", WaveNum: 1, Waves: 2, Batches: 1}
	w2 := runner.Event{Wave: "loaded", WaveNum: 2, Waves: 2, Batches: 2, Batch: 1}
	with := func(base runner.Event, f func(*runner.Event)) runner.Event { f(&base); return base }
	return []runner.Event{
		ev(runner.RunStart, 0, runner.Event{Waves: 2, Hosts: []string{"fe01", "fe02", "fe03", "fe04"}}),
		ev(runner.WaveStart, 0, with(w1, func(e *runner.Event) { e.Hosts = []string{"fe01", "fe02"}; e.Msg = "the updating set" })),
		ev(runner.BatchStart, 0, with(w1, func(e *runner.Event) { e.Batch = 1; e.Hosts = []string{"fe01", "fe02"} })),
		ev(runner.HostTaskStart, 0, with(w1, func(e *runner.Event) { e.Host, e.Task = "fe01", "installer.platform" })),
		ev(runner.HostTaskStart, 0, with(w1, func(e *runner.Event) { e.Host, e.Task = "fe02", "installer.platform" })),
		ev(runner.HostTaskEnd, 4*time.Minute, with(w1, func(e *runner.Event) {
			e.Host, e.Task, e.Status, e.Duration, e.Msg = "fe01", "installer.platform", runner.StatusChanged, 4*time.Minute, "upgraded 11.29.1 → 11.31.0"
		})),
		ev(runner.HostTaskEnd, 4*time.Minute, with(w1, func(e *runner.Event) {
			e.Host, e.Task, e.Status, e.Duration = "fe02", "installer.platform", runner.StatusOK, 4*time.Minute
		})),
		ev(runner.WaveEnd, 4*time.Minute, with(w1, func(e *runner.Event) { e.Status = runner.StatusOK })),
		ev(runner.WaveStart, 5*time.Minute, with(w2, func(e *runner.Event) { e.Hosts = []string{"fe03", "fe04"} })),
		ev(runner.BatchStart, 5*time.Minute, with(w2, func(e *runner.Event) { e.Hosts = []string{"fe03", "fe04"} })),
		ev(runner.HostTaskStart, 5*time.Minute, with(w2, func(e *runner.Event) { e.Host, e.Task = "fe03", "lb_member.drain" })),
		ev(runner.HostTaskStart, 5*time.Minute, with(w2, func(e *runner.Event) { e.Host, e.Task = "fe04", "installer.platform" })),
		ev(runner.Progress, 5*time.Minute+10*time.Second, with(w2, func(e *runner.Event) {
			e.Host, e.Task, e.Msg = "fe03", "lb_member.drain", "draining fe03: 12 sessions left (10s of 5m0s)"
		})),
		ev(runner.Progress, 5*time.Minute+20*time.Second, with(w2, func(e *runner.Event) {
			e.Host, e.Task, e.Msg = "fe03", "lb_member.drain", "draining fe03: 3 sessions left (20s of 5m0s)"
		})),
		ev(runner.HostTaskEnd, 5*time.Minute+30*time.Second, with(w2, func(e *runner.Event) {
			e.Host, e.Task, e.Status, e.Duration = "fe04", "installer.platform", runner.StatusFailed, 30*time.Second
			e.Error = "installer exited with status 1603\n--- tail of Installer.log ---\nError 1722"
		})),
	}
}

func feed(v *View, evs []runner.Event) {
	for _, e := range evs {
		v.Emit(e)
	}
}

func TestFrame(t *testing.T) {
	evs := midRun()
	tests := []struct {
		name   string
		events []runner.Event
		now    time.Duration
		want   []string // substrings of the frame's lines, in order
	}{
		{
			name:   "before any wave",
			events: evs[:1],
			now:    2 * time.Second,
			want:   []string{"osrun run-42 · apply · 2s", "fe01 waiting", "fe04 waiting"},
		},
		{
			name:   "first batch running",
			events: evs[:5],
			now:    90 * time.Second,
			want: []string{
				"osrun run-42 · apply · wave 1/2 updating · batch 1/1 · 1m30s",
				"fe01 running       1m30s  installer.platform",
				"fe02 running       1m30s  installer.platform",
				"fe03 waiting",
			},
		},
		{
			name:   "second wave, a drain and a failure",
			events: evs,
			now:    5*time.Minute + 31*time.Second,
			want: []string{
				"wave 2/2 loaded · batch 1/2 · 5m31s",
				"fe01 changed        4m0s  installer.platform  upgraded 11.29.1 → 11.31.0",
				"fe02 ok             4m0s  installer.platform",
				"fe03 running         31s  lb_member.drain     draining fe03: 3 sessions left (20s of 5m0s)",
				"fe04 failed          30s  installer.platform  installer exited with status 1603",
			},
		},
		{
			name: "ended",
			events: append(evs[:len(evs):len(evs)],
				ev(runner.RunEnd, 6*time.Minute, runner.Event{Status: runner.StatusFailed, Msg: "failed", Duration: 6 * time.Minute})),
			now:  time.Hour, // the final frame does not keep counting
			want: []string{"osrun run-42 · apply · failed · 6m0s", "fe03 unfinished     1m0s  lb_member.drain", "fe04 failed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t0.Add(tt.now)}
			v := New(&bytes.Buffer{}, Options{Now: c.Now})
			feed(v, tt.events)
			frame := strings.Join(v.Frame(), "\n")
			rest := frame
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("frame lacks %q (in order):\n%s", w, frame)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestIgnoredFailure(t *testing.T) {
	v := New(&bytes.Buffer{}, Options{Now: (&clock{t0}).Now})
	v.Emit(ev(runner.HostTaskEnd, 0, runner.Event{Host: "fe01", Task: "command.cleanup", Status: runner.StatusFailed, Ignored: true, Error: "rm: busy"}))
	if frame := strings.Join(v.Frame(), "\n"); !strings.Contains(frame, "fe01 failed") || !strings.Contains(frame, "error ignored: rm: busy") {
		t.Errorf("frame does not say the error was ignored:\n%s", frame)
	}
	v.Emit(ev(runner.HostTaskStart, 0, runner.Event{Host: "fe01", Task: "service.restart"}))
	frame := strings.Join(v.Frame(), "\n")
	if !strings.Contains(frame, "fe01 running") {
		t.Errorf("a host whose failure is ignored carries on:\n%s", frame)
	}
	v.Draw()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.host["fe01"].down {
		t.Error("an ignored failure marked the host down")
	}
}

func TestLastingLines(t *testing.T) {
	var out bytes.Buffer
	v := New(&out, Options{Now: (&clock{t0}).Now})
	feed(v, midRun())
	v.Println("osrun: warning: host key checking is off for fe01")
	v.Draw()
	s := out.String()
	for _, w := range []string{
		"wave 1/2 updating [fe01, fe02] the updating set\x1b[K\n",
		"wave 2/2 loaded [fe03, fe04]\x1b[K\n",
		"fe04 failed installer.platform: installer exited with status 1603\x1b[K\n",
		"osrun: warning: host key checking is off for fe01\x1b[K\n",
	} {
		if !strings.Contains(s, w) {
			t.Errorf("output lacks the lasting line %q:\n%q", w, s)
		}
	}
	if i, j := strings.Index(s, "fe04 failed"), strings.Index(s, "osrun run-42"); i > j {
		t.Error("lasting lines must come above the block")
	}
	// Printed once: the next redraw moves over the block only.
	out.Reset()
	v.SetTraffic(10, 0)
	v.Draw()
	if strings.Contains(out.String(), "wave 1/2") {
		t.Error("a lasting line was printed twice")
	}
}

func TestRedrawInPlace(t *testing.T) {
	var out bytes.Buffer
	c := &clock{t0}
	v := New(&out, Options{Now: c.Now})
	evs := midRun()
	feed(v, evs[:5])
	v.Draw()
	first := len(v.Frame())
	if !strings.HasSuffix(out.String(), "\x1b[J") {
		t.Errorf("a frame must end by clearing below it: %q", out.String())
	}

	out.Reset()
	v.Draw()
	if out.Len() != 0 {
		t.Errorf("an unchanged frame was redrawn: %q", out.String())
	}

	c.now = c.now.Add(2 * time.Second)
	v.Draw()
	if want := fmt.Sprintf("\x1b[%dF", first); !strings.HasPrefix(out.String(), want) {
		t.Errorf("redraw starts with %q, want to move up %d lines with %q", out.String()[:min(8, out.Len())], first, want)
	}
	if got := strings.Count(out.String(), "\n"); got != first {
		t.Errorf("redraw wrote %d lines, want %d", got, first)
	}
}

func TestColourOnlyWhenEnabled(t *testing.T) {
	for _, color := range []bool{false, true} {
		t.Run(fmt.Sprint("color=", color), func(t *testing.T) {
			var out bytes.Buffer
			v := New(&out, Options{Color: color, Now: (&clock{t0.Add(6 * time.Minute)}).Now})
			feed(v, midRun())
			v.SetTraffic(1200, 3)
			v.Draw()
			codes := sgr.FindAllString(out.String(), -1)
			if !color && len(codes) > 0 {
				t.Fatalf("colour codes %q written with colour off:\n%q", codes, out.String())
			}
			if color {
				for _, w := range []string{"\x1b[31mfailed", "\x1b[33mchanged", "\x1b[32mok", "\x1b[1mrunning"} {
					if !strings.Contains(out.String(), w) {
						t.Errorf("colour output lacks %q", w)
					}
				}
			}
			// Colour or not, the text is the same.
			if plain := sgr.ReplaceAllString(out.String(), ""); !strings.Contains(plain, "requests served 1200, failed 3") {
				t.Errorf("traffic line missing:\n%s", plain)
			}
		})
	}
}

func TestCutToWidth(t *testing.T) {
	for _, color := range []bool{false, true} {
		var out bytes.Buffer
		v := New(&out, Options{Color: color, Width: 40, Now: (&clock{t0.Add(6 * time.Minute)}).Now})
		feed(v, midRun())
		v.Draw()
		for _, l := range v.Frame() {
			if n := utf8.RuneCountInString(l); n > 39 {
				t.Errorf("line of %d columns with width 40: %q", n, l)
			}
		}
		// Only the frame is cut, lasting lines may wrap: check the block.
		plain := sgr.ReplaceAllString(out.String(), "")
		block := plain[strings.Index(plain, "osrun run-42"):]
		for _, l := range strings.Split(block, "\n") {
			l = strings.TrimSuffix(l, "\x1b[K")
			l = strings.TrimSuffix(l, "\x1b[J")
			if n := utf8.RuneCountInString(l); n > 39 {
				t.Errorf("color=%v: drawn line of %d columns: %q", color, n, l)
			}
		}
	}
}

func TestCutToHeight(t *testing.T) {
	v := New(&bytes.Buffer{}, Options{Height: 8, Now: (&clock{t0}).Now})
	var all []string
	for i := range 30 {
		all = append(all, fmt.Sprintf("fe%02d", i+1))
	}
	w := runner.Event{Wave: "loaded", WaveNum: 2, Waves: 2, Batches: 10, Batch: 4}
	v.Emit(ev(runner.RunStart, 0, runner.Event{Hosts: all}))
	w.Hosts = all[10:]
	v.Emit(ev(runner.WaveStart, 0, w))
	v.Emit(ev(runner.HostTaskEnd, 0, runner.Event{Wave: "updating", Host: "fe02", Task: "installer.platform", Status: runner.StatusUnreachable}))
	w.Hosts = all[20:23]
	v.Emit(ev(runner.BatchStart, 0, w))
	frame := v.Frame()
	if len(frame) > 8-1 {
		t.Errorf("frame of %d lines on an 8-line terminal:\n%s", len(frame), strings.Join(frame, "\n"))
	}
	text := strings.Join(frame, "\n")
	for _, h := range []string{"fe02", "fe21", "fe22", "fe23", "more hosts"} {
		if !strings.Contains(text, h) {
			t.Errorf("frame lacks %s:\n%s", h, text)
		}
	}
}

func TestPauseResume(t *testing.T) {
	var out bytes.Buffer
	v := New(&out, Options{Now: (&clock{t0}).Now})
	feed(v, midRun()[:5])
	v.Draw()
	lines := len(v.Frame())
	out.Reset()
	v.Pause()
	if want := fmt.Sprintf("\x1b[%dF\x1b[J", lines); out.String() != want {
		t.Errorf("pause wrote %q, want %q (erase the block)", out.String(), want)
	}
	out.Reset()
	v.Emit(midRun()[5])
	v.Draw()
	if out.Len() != 0 {
		t.Errorf("drew while paused: %q", out.String())
	}
	v.Resume()
	if s := out.String(); strings.Contains(s, "\x1b[F") || !strings.HasPrefix(s, "osrun") {
		t.Errorf("resume must draw a fresh block below the prompt: %q", s)
	}
}

// syncBuffer is a bytes.Buffer the test reads while the ticker writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestTickerThrottlesAndStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out syncBuffer
		v := New(&out, Options{Interval: 100 * time.Millisecond})
		frames := func() int { return strings.Count(out.String(), "osrun run-42") }
		v.Start()
		evs := midRun()
		start := time.Now()
		for _, e := range evs {
			e.Time = start // the bubble's clock
			v.Emit(e)
		}
		// Many events, one tick: one frame.
		time.Sleep(150 * time.Millisecond)
		synctest.Wait()
		if n := frames(); n != 1 {
			t.Fatalf("%d frames after one tick, want 1", n)
		}
		// A second later the running host's clock has moved: redrawn,
		// but at most once per tick.
		time.Sleep(time.Second)
		synctest.Wait()
		if n := frames(); n < 2 || n > 11 {
			t.Errorf("%d frames after 11 ticks, want 2..11", n)
		}
		for i := range 50 {
			v.SetTraffic(i, 0)
		}
		before := frames()
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		if n := frames(); n != before+1 {
			t.Errorf("50 counter updates within a tick drew %d frames, want 1", n-before)
		}

		v.Emit(runner.Event{Kind: runner.RunEnd, Time: time.Now(), Status: runner.StatusFailed, Msg: "failed", Duration: time.Minute})
		v.Stop()
		v.Stop() // idempotent
		final := out.String()
		if !strings.Contains(final[strings.LastIndex(final, "osrun run-42"):], "failed · 1m0s") {
			t.Errorf("Stop did not draw the final frame:\n%q", final)
		}
		// The ticker is gone: nothing more is drawn.
		time.Sleep(time.Second)
		synctest.Wait()
		if out.String() != final {
			t.Error("drew after Stop")
		}
		if err := v.Err(); err != nil {
			t.Error(err)
		}
	})
}

func TestStopWithoutStart(t *testing.T) {
	var out bytes.Buffer
	v := New(&out, Options{Now: (&clock{t0}).Now})
	feed(v, midRun()[:3])
	v.Stop()
	if !strings.Contains(out.String(), "osrun run-42") {
		t.Errorf("Stop without Start must still draw the final frame: %q", out.String())
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	w.n++
	return 0, fmt.Errorf("write /dev/pts/3: input/output error")
}

func TestWriteErrorStopsDrawing(t *testing.T) {
	w := &failWriter{}
	c := &clock{t0}
	v := New(w, Options{Now: c.Now})
	feed(v, midRun()[:3])
	v.Draw()
	c.now = c.now.Add(time.Minute)
	v.Draw()
	if w.n != 1 {
		t.Errorf("%d writes, want 1: the view stops after an error", w.n)
	}
	if err := v.Err(); err == nil || !strings.HasPrefix(err.Error(), "live view: ") {
		t.Errorf("Err() = %v", err)
	}
}

func TestOddStreams(t *testing.T) {
	tests := []struct {
		name   string
		events []runner.Event
		want   string
	}{
		{"nothing yet", nil, "osrun · apply"},
		{"no run start", []runner.Event{{Kind: runner.Progress, Host: "fe09", Msg: "draining"}}, "fe09 waiting                    draining"},
		{"end before start", []runner.Event{{Kind: runner.HostTaskEnd, Host: "fe01", Task: "a.b", Status: runner.StatusOK}}, "fe01 ok               0s  a.b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := New(&bytes.Buffer{}, Options{Now: (&clock{t0}).Now})
			feed(v, tt.events)
			v.Draw()
			if frame := strings.Join(v.Frame(), "\n"); !strings.Contains(frame, tt.want) {
				t.Errorf("frame lacks %q:\n%s", tt.want, frame)
			}
		})
	}
}
