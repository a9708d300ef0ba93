package live

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/osrun/osrun/runner"
)

// Options configure a View.
type Options struct {
	// Color turns on SGR colour codes. The CLI decides: a TTY and no
	// NO_COLOR.
	Color bool
	// Interval is the shortest time between two redraws (default 100ms,
	// ten a second): events come far faster during a big batch, and a
	// terminal that redraws on each one flickers and slows the run.
	Interval time.Duration
	// Width is the terminal's width in columns. Frame lines are cut to fit:
	// a line that wraps would throw the cursor arithmetic off. 0 cuts
	// nothing.
	Width int
	// Height is the terminal's height in rows. The host list is cut to fit,
	// keeping the hosts at work and those that failed. 0 cuts nothing.
	Height int
	// Now is the clock of elapsed times (default time.Now).
	Now func() time.Time
}

// View is the live progress of one run. It is safe for concurrent use: the
// runner emits events, the lab sets traffic counters and the redraw ticker
// draws, all at once.
type View struct {
	mu   sync.Mutex
	w    io.Writer
	opts Options

	runID      string
	check      bool
	start      time.Time
	ended      bool
	outcome    string
	runDur     time.Duration
	wave       string
	waveNum    int
	waves      int
	batch      int
	batches    int
	waveHosts  []string
	batchHosts []string
	hosts      []string
	host       map[string]*hostState
	traffic    *traffic

	onScreen int      // lines of the frame last drawn, to move back over
	last     string   // the frame last drawn, to skip identical redraws
	pending  []string // lasting lines to print above the next frame
	paused   bool
	err      error // the first write error; drawing stops after it

	startOnce, stopOnce sync.Once
	stop, done          chan struct{}
}

type hostState struct {
	task    string
	status  string // "" (waiting), "running" or a runner.Status
	start   time.Time
	dur     time.Duration
	line    string // the last progress line, or the task's message
	attempt int
	down    bool
}

type traffic struct{ served, failed int }

// Host states besides runner.Status values.
const (
	statusRunning    = "running"
	statusUnfinished = "unfinished" // still running when the run ended
)

// New returns a view that draws on w (a terminal).
func New(w io.Writer, opts Options) *View {
	if opts.Interval <= 0 {
		opts.Interval = 100 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &View{w: w, opts: opts, host: map[string]*hostState{}, stop: make(chan struct{}), done: make(chan struct{})}
}

// Emit records one event; the next redraw shows it.
func (v *View) Emit(e runner.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if e.RunID != "" {
		v.runID = e.RunID
	}
	v.check = v.check || e.Check
	for _, h := range e.Hosts {
		v.hostState(h)
	}
	switch e.Kind {
	case runner.RunStart:
		v.start = e.Time
	case runner.RunEnd:
		v.ended, v.outcome, v.runDur = true, e.Msg, e.Duration
		if v.outcome == "" {
			v.outcome = string(e.Status)
		}
		// The final frame stays on screen: no clock may keep running in it.
		for _, hs := range v.host {
			if hs.status == statusRunning {
				hs.status, hs.dur = statusUnfinished, e.Time.Sub(hs.start)
			}
		}
	case runner.WaveStart:
		v.wave, v.waveNum, v.waves = e.Wave, e.WaveNum, e.Waves
		v.batch, v.batches, v.waveHosts, v.batchHosts = 0, e.Batches, e.Hosts, nil
		for _, h := range e.Hosts {
			if hs := v.host[h]; !hs.down {
				*hs = hostState{}
			}
		}
		line := fmt.Sprintf("wave %d/%d %s [%s]", e.WaveNum, e.Waves, e.Wave, strings.Join(e.Hosts, ", "))
		if e.Msg != "" {
			line += " " + e.Msg
		}
		v.pending = append(v.pending, v.paint(bold, line))
	case runner.WaveEnd:
		if e.Status != "" && e.Status != runner.StatusOK && e.Status != runner.StatusChanged {
			line := fmt.Sprintf("wave %s %s", e.Wave, e.Status)
			if e.Msg != "" {
				line += ": " + e.Msg
			}
			v.pending = append(v.pending, v.paint(red, line))
		}
	case runner.BatchStart:
		v.batch, v.batches, v.batchHosts = e.Batch, e.Batches, e.Hosts
	case runner.HostTaskStart:
		hs := v.hostState(e.Host)
		*hs = hostState{task: e.Task, status: statusRunning, start: e.Time, down: hs.down}
	case runner.Progress:
		hs := v.hostState(e.Host)
		hs.line, hs.attempt = e.Msg, max(hs.attempt, e.Attempt)
	case runner.HostTaskEnd:
		hs := v.hostState(e.Host)
		hs.task, hs.status, hs.dur = e.Task, string(e.Status), e.Duration
		if e.Msg != "" {
			hs.line = e.Msg
		}
		if e.Error != "" {
			hs.line = firstLine(e.Error)
		}
		if e.Ignored {
			hs.line = "error ignored: " + hs.line
		}
		failed := (e.Status == runner.StatusFailed && !e.Ignored) || e.Status == runner.StatusUnreachable
		if failed {
			hs.down = true
		}
		if failed || e.Status == runner.StatusInterrupted {
			line := fmt.Sprintf("%s %s %s", e.Host, e.Status, e.Task)
			if e.Error != "" {
				line += ": " + firstLine(e.Error)
			}
			v.pending = append(v.pending, v.paint(red, line))
		}
	}
}

func (v *View) hostState(name string) *hostState {
	hs := v.host[name]
	if hs == nil {
		hs = &hostState{}
		v.host[name] = hs
		v.hosts = append(v.hosts, name)
	}
	return hs
}

// SetTraffic records the requests the lab's traffic generator has had
// served so far and how many of them failed.
func (v *View) SetTraffic(served, failed int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.traffic = &traffic{served, failed}
}

// SetSize records a new terminal size (after SIGWINCH).
func (v *View) SetSize(width, height int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.opts.Width, v.opts.Height = width, height
}

// Println prints a line that stays, above the redrawn block, on the next
// redraw. Warnings meant for the terminal go through it, not around it.
func (v *View) Println(line string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.pending = append(v.pending, line)
}

// Pause erases the block and stops redrawing until Resume, so a prompt
// (a manual approval) can use the terminal. Lasting lines printed
// meanwhile wait for Resume.
func (v *View) Pause() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.paused {
		return
	}
	v.paused = true
	if v.onScreen > 0 {
		v.write(fmt.Sprintf("\x1b[%dF\x1b[J", v.onScreen))
	}
	v.onScreen, v.last = 0, ""
}

// Resume redraws after Pause.
func (v *View) Resume() {
	v.mu.Lock()
	v.paused = false
	v.mu.Unlock()
	v.Draw()
}

// Start redraws the view every Options.Interval, when it changed, until
// Stop.
func (v *View) Start() {
	v.startOnce.Do(func() {
		go func() {
			defer close(v.done)
			t := time.NewTicker(v.opts.Interval)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					v.Draw()
				case <-v.stop:
					return
				}
			}
		}()
	})
}

// Stop ends the redraws started by Start and draws the final frame, which
// stays on screen; what is printed next goes below it.
func (v *View) Stop() {
	v.stopOnce.Do(func() {
		close(v.stop)
		v.startOnce.Do(func() { close(v.done) }) // never started
		<-v.done
		v.mu.Lock()
		v.paused = false
		v.mu.Unlock()
		v.Draw()
	})
}

// Err returns the first error writing to the terminal; the view stops
// drawing after it.
func (v *View) Err() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.err
}

// Draw redraws now if anything changed. Start calls it on each tick; tests
// and the CLI may call it directly.
func (v *View) Draw() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.paused || v.err != nil {
		return
	}
	lines := v.frame()
	frame := strings.Join(lines, "\n")
	if frame == v.last && len(v.pending) == 0 {
		return
	}
	var b strings.Builder
	if v.onScreen > 0 {
		// Back to the first line of the old frame, then overwrite it line
		// by line (clearing each line's rest) rather than clearing first:
		// the terminal never shows an empty block, so it does not flicker.
		fmt.Fprintf(&b, "\x1b[%dF", v.onScreen)
	}
	for _, l := range v.pending {
		b.WriteString(l + "\x1b[K\n")
	}
	for _, l := range lines {
		b.WriteString(l + "\x1b[K\n")
	}
	b.WriteString("\x1b[J") // a shorter frame leaves old lines below
	v.write(b.String())
	v.pending, v.last, v.onScreen = nil, frame, len(lines)
}

func (v *View) write(s string) {
	if _, err := io.WriteString(v.w, s); err != nil && v.err == nil {
		v.err = fmt.Errorf("live view: %w", err)
	}
}

// Frame returns the lines the next redraw would show, without colour
// codes; for tests and for a final plain copy.
func (v *View) Frame() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	color := v.opts.Color
	v.opts.Color = false
	defer func() { v.opts.Color = color }()
	return v.frame()
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
