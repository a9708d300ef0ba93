package html

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/osrun/osrun/runner"
)

// page is what the template renders. Every number the SVG needs is
// computed here and formatted as a string, so the template only places
// values and the output is byte-for-byte stable.
type page struct {
	Title, RunID, Playbook, Inventory string
	Mode, Outcome, OutcomeClass       string
	Started, Duration, StoppedAt      string
	StopReason                        string // why the run stopped early, when it says
	WaveCount, HostCount              int
	Traffic                           *trafficView
	Timeline                          *chart
	Rotation                          *chart
	Waves                             []waveRow
	Versions                          []versionRow
	Recap                             recapView
	Failures                          []failureView
}

type trafficView struct {
	Sent, Failed int
	Rate         string
}

// chart is an SVG with one row per host over the run's time axis: the
// timeline (task bars in wave bands) or the rotation strips.
type chart struct {
	Width, Height int
	PlotLeft      int
	PlotRight     int
	GridTop       int
	GridBottom    int
	TickY         int
	Ticks         []tick
	Bands         []band
	Rows          []rowView
	Bars          []barView
}

type tick struct {
	X     string
	Label string
}

type band struct {
	X, W           string
	Class          string
	Label, LabelX  string
	Title          string
	Height, LabelY int
}

type rowView struct {
	Host          string
	Y, TextY      int
	Width, Height int
	Class         string
	LabelX        int
}

type barView struct {
	X, W          string
	Y, H          int
	Class         string
	Title         string
	Label, LabelX string
	LabelY        int
	Host, Task    string
	Status        string
	Link          string // "#failure-N" for failures
}

type waveRow struct {
	Num                     int
	Name, Desc, Hosts       string
	Batches                 int
	Duration, Status, Class string
	Msg                     string
}

type versionRow struct {
	Host, Before, After, Change string
}

type recapView struct {
	FromEvents  bool
	Interrupted bool
	Rows        []recapRow
}

type recapRow struct {
	runner.HostRecap
	Class string
}

type failureView struct {
	ID                   string
	Host, Task, Wave     string
	Status, Class        string
	Attempt              int
	Ignored              bool
	Duration, Msg, Error string
	Tail                 string
	TailLines            int
}

// Geometry of the charts, in SVG user units (the SVG scales to the page).
const (
	chartWidth = 1200
	minLeft    = 170 // room for host names, more for long ones
	maxLeft    = 400
	plotRight  = 1180
	topMargin  = 30 // wave labels
	rowHeight  = 24
	barHeight  = 16
	axisHeight = 28
	charWidth  = 6.6 // rough width of a character of the labels, to decide whether one fits
)

// build turns what was collected into a page. The caller holds c.mu.
func (c *Collector) build() *page {
	p := &page{
		Title:     c.run.title,
		RunID:     c.run.id,
		Playbook:  c.cfg.playbook,
		Inventory: c.cfg.inventory,
		Mode:      "apply",
		HostCount: len(c.hosts),
		WaveCount: len(c.waves),
	}
	if c.run.check {
		p.Mode = "check"
	}
	switch {
	case c.recap != nil && c.recap.Outcome != "":
		p.Outcome = string(c.recap.Outcome)
		p.StoppedAt, p.StopReason = c.recap.StoppedAt, c.recap.StopReason
	case c.run.ended && c.run.outcome != "":
		p.Outcome = c.run.outcome
	case c.run.ended:
		p.Outcome = string(c.run.status)
	default:
		p.Outcome = "incomplete"
	}
	p.OutcomeClass = "outcome-" + classToken(p.Outcome)
	if !c.first.IsZero() {
		start := c.first
		if c.run.started {
			start = c.run.start
		}
		p.Started = start.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	switch {
	case c.recap != nil && c.recap.Duration > 0:
		p.Duration = human(c.recap.Duration)
	case c.run.duration > 0:
		p.Duration = human(c.run.duration)
	default:
		p.Duration = human(c.last.Sub(c.first))
	}
	if c.traffic != nil {
		p.Traffic = &trafficView{Sent: c.traffic.sent, Failed: c.traffic.failed}
		if c.traffic.sent > 0 {
			p.Traffic.Rate = fmt.Sprintf("%.2f%%", 100*float64(c.traffic.sent-c.traffic.failed)/float64(c.traffic.sent))
		}
	}

	p.Failures = c.failures()
	links := map[*bar]string{}
	for i, b := range c.failedBars() {
		links[b] = "#" + p.Failures[i].ID
	}
	p.Timeline = c.timeline(links)
	p.Rotation = c.rotationChart()
	p.Waves = c.waveRows()
	p.Versions = c.versionRows()
	p.Recap = c.recapRows()
	return p
}

// axis maps times to x between left and plotRight.
type axis struct {
	t0   time.Time
	span time.Duration
	left float64
}

func (c *Collector) axis() axis {
	span := c.last.Sub(c.first)
	if span <= 0 {
		span = time.Second
	}
	// Host names are right-aligned before the plot: make room for the
	// longest, within reason (a longer one is clipped on its left).
	left := minLeft
	for _, h := range c.hosts {
		left = max(left, int(float64(len([]rune(h)))*charWidth)+16)
	}
	return axis{t0: c.first, span: span, left: float64(min(left, maxLeft))}
}

func (a axis) x(t time.Time) float64 {
	if t.IsZero() {
		return a.left
	}
	f := float64(t.Sub(a.t0)) / float64(a.span)
	f = min(max(f, 0), 1)
	return a.left + f*(plotRight-a.left)
}

// tickSteps are the spacings a time axis may use: round numbers an
// operator reads at a glance.
var tickSteps = []time.Duration{
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond,
	50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// ticks returns the ticks of at most 10 intervals over span, the first at
// 0, and their spacing.
func ticks(span time.Duration) ([]time.Duration, time.Duration) {
	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if span/s <= 10 {
			step = s
			break
		}
	}
	var out []time.Duration
	for d := time.Duration(0); d <= span; d += step {
		out = append(out, d)
	}
	return out, step
}

// tickLabel formats a tick's offset: as a clock for steps of a second or
// more, else as a short duration (a rehearsal on local hosts takes
// milliseconds).
func tickLabel(d, step time.Duration) string {
	if step < time.Second {
		return d.String()
	}
	return clock(d)
}

// clock formats an offset from the start of the run as m:ss or h:mm:ss.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// human formats a duration with the precision an operator cares about.
func human(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }

// frame sets up a chart of n host rows with the time axis.
func (c *Collector) frame(n int) (*chart, axis) {
	a := c.axis()
	ch := &chart{Width: chartWidth, PlotLeft: int(a.left), PlotRight: plotRight, GridTop: topMargin}
	ch.GridBottom = topMargin + n*rowHeight
	ch.TickY = ch.GridBottom + 18
	ch.Height = ch.GridBottom + axisHeight
	offsets, step := ticks(a.span)
	for _, d := range offsets {
		ch.Ticks = append(ch.Ticks, tick{X: f1(a.x(a.t0.Add(d))), Label: tickLabel(d, step)})
	}
	return ch, a
}

func (ch *chart) addRow(i int, host string) {
	y := topMargin + i*rowHeight
	class := "row-a"
	if i%2 == 1 {
		class = "row-b"
	}
	ch.Rows = append(ch.Rows, rowView{Host: host, Y: y, TextY: y + rowHeight/2 + 4, Width: plotRight, Height: rowHeight, Class: class, LabelX: ch.PlotLeft - 8})
}

// fits says whether label fits in a box w wide, with a little padding.
func fits(label string, w float64) bool {
	return float64(len([]rune(label)))*charWidth+8 <= w
}

func (c *Collector) timeline(links map[*bar]string) *chart {
	ch, a := c.frame(len(c.hosts))
	row := map[string]int{}
	for i, h := range c.hosts {
		row[h] = i
		ch.addRow(i, h)
	}
	ch.Bands = c.bands(a, ch.GridBottom)
	for _, b := range c.bars {
		end, status := b.end, string(b.status)
		if !b.ended {
			end, status = c.last, "unfinished"
		}
		x0, x1 := a.x(b.start), a.x(end)
		w := max(x1-x0, 2) // a skipped task still shows
		y := topMargin + row[b.host]*rowHeight + (rowHeight-barHeight)/2
		bv := barView{
			X: f1(x0), W: f1(w), Y: y, H: barHeight,
			Class: "bar st-" + classToken(status),
			Host:  b.host, Task: b.task, Status: status,
			Link: links[b],
		}
		if b.ignored {
			bv.Class += " ignored"
		}
		bv.Title = fmt.Sprintf("%s · %s · %s · %s (wave %s", b.host, b.task, status, human(end.Sub(b.start)), b.wave)
		if b.batch > 0 {
			bv.Title += fmt.Sprintf(", batch %d", b.batch)
		}
		bv.Title += ")"
		if b.attempt > 0 {
			bv.Title += fmt.Sprintf(" attempt %d", b.attempt)
		}
		if b.ignored {
			bv.Title += " (error ignored)"
		}
		for _, s := range []string{b.msg, firstLine(b.err)} {
			if s != "" {
				bv.Title += "\n" + s
			}
		}
		if label := shortTask(b.task); fits(label, w) {
			bv.Label, bv.LabelX, bv.LabelY = label, f1(x0+4), y+barHeight-4
		}
		ch.Bars = append(ch.Bars, bv)
	}
	return ch
}

// bands shades each wave's time span down to bottom, labelled when there
// is room.
func (c *Collector) bands(a axis, bottom int) []band {
	var out []band
	for i, w := range c.waves {
		end := w.end
		if !w.ended {
			end = c.last
		}
		x0, x1 := a.x(w.start), a.x(end)
		b := band{X: f1(x0), W: f1(max(x1-x0, 1)), Class: "band-a", Height: bottom, LabelY: 19}
		if i%2 == 1 {
			b.Class = "band-b"
		}
		b.Title = fmt.Sprintf("wave %d/%d %s: %s", w.num, len(c.waves), w.name, human(end.Sub(w.start)))
		if w.desc != "" {
			b.Title += "\n" + w.desc
		}
		for _, l := range []string{fmt.Sprintf("%d %s", w.num, w.name), fmt.Sprint(w.num)} {
			if fits(l, x1-x0) {
				b.Label, b.LabelX = l, f1(x0+4)
				break
			}
		}
		out = append(out, b)
	}
	return out
}

// shortTask drops the module from "<module>.<name>": the name is what the
// playbook's author chose to tell tasks apart.
func shortTask(task string) string {
	if _, name, ok := strings.Cut(task, "."); ok && name != "" {
		return name
	}
	return task
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// rotationChart draws one strip per host whose load-balancer state is
// known; nil when none is.
func (c *Collector) rotationChart() *chart {
	var hosts []string
	for _, h := range c.hosts {
		if len(c.host[h].rotation) > 0 {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return nil
	}
	ch, a := c.frame(len(hosts))
	ch.Bands = c.bands(a, ch.GridBottom)
	for i, h := range hosts {
		ch.addRow(i, h)
		rot := slices.Clone(c.host[h].rotation)
		slices.SortStableFunc(rot, func(p, q rotation) int {
			if c := p.t.Compare(q.t); c != 0 {
				return c
			}
			return p.seq - q.seq
		})
		// Merge repeats so one state is one segment.
		rot = slices.CompactFunc(rot, func(p, q rotation) bool { return p.state == q.state })
		y := topMargin + i*rowHeight + (rowHeight-barHeight)/2
		for j, r := range rot {
			end := c.last
			if j+1 < len(rot) {
				end = rot[j+1].t
			}
			x0, x1 := a.x(r.t), a.x(end)
			if x1 <= x0 && j+1 < len(rot) {
				continue // replaced at the same instant
			}
			w := max(x1-x0, 2)
			bv := barView{
				X: f1(x0), W: f1(w), Y: y, H: barHeight,
				Class: "seg rot-" + rotClass(r.state),
				Host:  h, Status: r.state,
				Title: fmt.Sprintf("%s %s from %s to %s (%s)", h, r.state, clock(r.t.Sub(a.t0)), clock(end.Sub(a.t0)), human(end.Sub(r.t))),
			}
			if fits(r.state, w) {
				bv.Label, bv.LabelX, bv.LabelY = r.state, f1(x0+4), y+barHeight-4
			}
			ch.Bars = append(ch.Bars, bv)
		}
	}
	return ch
}

func rotClass(state string) string {
	switch state {
	case "enabled", "drained", "disabled":
		return state
	}
	return "other"
}

// classToken keeps a CSS class name to letters, digits, '-' and '_'.
func classToken(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '-'
	}, s)
}

func statusClass(s runner.Status) string {
	if s == "" {
		return ""
	}
	return "st-" + classToken(string(s))
}

func (c *Collector) waveRows() []waveRow {
	var out []waveRow
	for _, w := range c.waves {
		r := waveRow{Num: w.num, Name: w.name, Desc: w.desc, Hosts: strings.Join(w.hosts, ", "), Batches: w.batches, Msg: w.msg}
		if w.ended {
			r.Duration = human(w.end.Sub(w.start))
			r.Status, r.Class = string(w.status), statusClass(w.status)
		} else {
			r.Status, r.Class = "unfinished", "st-unfinished"
		}
		out = append(out, r)
	}
	return out
}

func (c *Collector) versionRows() []versionRow {
	var out []versionRow
	for _, h := range c.hosts {
		v := c.host[h].versions
		if v == (versions{}) {
			continue
		}
		r := versionRow{Host: h, Before: v.before, After: v.after}
		switch {
		case v.before != "" && v.after != "" && v.before != v.after:
			r.Change = "upgraded"
		case v.before != "" && v.before == v.after:
			r.Change = "unchanged"
		}
		out = append(out, r)
	}
	return out
}

func (c *Collector) recapRows() recapView {
	var v recapView
	hosts := []runner.HostRecap{}
	if c.recap != nil {
		hosts = c.recap.Hosts
	} else {
		v.FromEvents = true
		count := map[string]*runner.HostRecap{}
		for _, h := range c.hosts {
			count[h] = &runner.HostRecap{Host: h}
		}
		for _, b := range c.bars {
			if !b.ended {
				continue
			}
			r := count[b.host]
			switch {
			case b.ignored:
				r.Ignored++
			case b.status == runner.StatusOK:
				r.OK++
			case b.status == runner.StatusChanged:
				r.Changed++
			case b.status == runner.StatusFailed:
				r.Failed++
			case b.status == runner.StatusSkipped:
				r.Skipped++
			case b.status == runner.StatusUnreachable:
				r.Unreachable++
			case b.status == runner.StatusInterrupted:
				r.Interrupted++
			}
			if (b.status == runner.StatusFailed && !b.ignored) || b.status == runner.StatusUnreachable {
				r.FailedTask, r.Error = b.task, b.err
			}
		}
		for _, h := range c.hosts {
			hosts = append(hosts, *count[h])
		}
	}
	for _, h := range hosts {
		r := recapRow{HostRecap: h}
		switch {
		case h.Failed > 0 || h.Unreachable > 0:
			r.Class = "host-failed"
		case h.Interrupted > 0:
			r.Class = "host-interrupted"
		}
		v.Interrupted = v.Interrupted || h.Interrupted > 0
		r.Error = firstLine(r.Error)
		v.Rows = append(v.Rows, r)
	}
	return v
}

func isFailure(b *bar) bool {
	switch b.status {
	case runner.StatusFailed, runner.StatusUnreachable, runner.StatusInterrupted:
		return b.ended
	}
	return false
}

func (c *Collector) failedBars() []*bar {
	var out []*bar
	for _, b := range c.bars {
		if isFailure(b) {
			out = append(out, b)
		}
	}
	return out
}

func (c *Collector) failures() []failureView {
	var out []failureView
	for i, b := range c.failedBars() {
		f := failureView{
			ID:   fmt.Sprintf("failure-%d", i+1),
			Host: b.host, Task: b.task, Wave: b.wave,
			Status: string(b.status), Class: statusClass(b.status),
			Attempt: b.attempt, Ignored: b.ignored,
			Duration: human(b.duration), Msg: b.msg, Error: b.err,
			Tail: strings.Join(b.tail, "\n"), TailLines: len(b.tail),
		}
		out = append(out, f)
	}
	return out
}
