package live

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/osrun/osrun/runner"
)

// SGR codes.
const (
	bold  = "1"
	dim   = "2"
	red   = "31"
	green = "32"
	amber = "33"
	cyan  = "36"
)

func (v *View) paint(code, text string) string {
	if !v.opts.Color || code == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

// span is a piece of a line with its colour; a line is cut to the
// terminal's width on its text, before colour codes are added, so that the
// codes never count as columns nor get cut in half.
type span struct{ text, code string }

func (v *View) render(spans []span) string {
	width := v.opts.Width - 1 // writing the last column makes some terminals wrap
	var b strings.Builder
	used := 0
	for _, s := range spans {
		text := s.text
		if v.opts.Width > 0 {
			room := width - used
			if room <= 0 {
				break
			}
			if n := utf8.RuneCountInString(text); n > room {
				text = string([]rune(text)[:room])
			}
			used += utf8.RuneCountInString(text)
		}
		b.WriteString(v.paint(s.code, text))
	}
	return b.String()
}

func statusCode(status string) string {
	switch runner.Status(status) {
	case runner.StatusOK:
		return green
	case runner.StatusChanged:
		return amber
	case runner.StatusFailed, runner.StatusUnreachable, runner.StatusInterrupted:
		return red
	case runner.StatusSkipped:
		return cyan
	}
	if status == statusRunning {
		return bold
	}
	return dim
}

// elapsed is shown to the second while a task runs, so a redraw is not
// needed ten times a second just for the clock.
func elapsed(d time.Duration, running bool) string {
	switch {
	case d <= 0:
		return "0s"
	case running || d >= time.Minute:
		return d.Truncate(time.Second).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

// frame builds the block's lines. The caller holds v.mu.
func (v *View) frame() []string {
	now := v.opts.Now()
	var lines []string

	head := []span{{"osrun", bold}}
	if v.runID != "" {
		head = append(head, span{" " + v.runID, ""})
	}
	mode := "apply"
	if v.check {
		mode = "check"
	}
	head = append(head, span{" · " + mode, ""})
	switch {
	case v.ended:
		head = append(head, span{" · ", ""}, span{v.outcome, outcomeCode(v.outcome)})
	case v.waveNum > 0:
		head = append(head, span{fmt.Sprintf(" · wave %d/%d %s", v.waveNum, v.waves, v.wave), bold})
		if v.batch > 0 {
			head = append(head, span{fmt.Sprintf(" · batch %d/%d", v.batch, v.batches), ""})
		}
	}
	switch {
	case v.ended && v.runDur > 0:
		head = append(head, span{" · " + elapsed(v.runDur, false), ""})
	case !v.start.IsZero():
		head = append(head, span{" · " + elapsed(now.Sub(v.start), !v.ended), ""})
	}
	lines = append(lines, v.render(head))

	if v.traffic != nil {
		t := []span{{fmt.Sprintf("  requests served %d, failed ", v.traffic.served), ""}}
		code := green
		if v.traffic.failed > 0 {
			code = red
		}
		t = append(t, span{fmt.Sprint(v.traffic.failed), code})
		lines = append(lines, v.render(t))
	}

	shown, hidden := v.shownHosts(len(lines))
	nameWidth := 4
	for _, h := range shown {
		nameWidth = max(nameWidth, utf8.RuneCountInString(h))
	}
	taskWidth := 4
	for _, h := range shown {
		taskWidth = max(taskWidth, utf8.RuneCountInString(v.host[h].task))
	}
	for _, h := range shown {
		hs := v.host[h]
		status, dur := hs.status, ""
		switch {
		case status == "":
			status = "waiting"
		case status == statusRunning:
			dur = elapsed(now.Sub(hs.start), true)
		default:
			dur = elapsed(hs.dur, false)
		}
		name := span{fmt.Sprintf("  %-*s ", nameWidth, h), ""}
		if hs.down {
			name.code = red
		}
		line := []span{
			name,
			{fmt.Sprintf("%-11s", status), statusCode(status)},
			{fmt.Sprintf(" %7s  %-*s", dur, taskWidth, hs.task), ""},
		}
		if hs.attempt > 1 && status == statusRunning {
			line = append(line, span{fmt.Sprintf("  attempt %d", hs.attempt), amber})
		}
		if hs.line != "" {
			line = append(line, span{"  " + hs.line, dim})
		}
		lines = append(lines, strings.TrimRight(v.render(line), " "))
	}
	if hidden > 0 {
		lines = append(lines, v.render([]span{{fmt.Sprintf("  … and %d more hosts", hidden), dim}}))
	}
	return lines
}

func outcomeCode(outcome string) string {
	if outcome == string(runner.OutcomeSuccess) {
		return green
	}
	return red
}

// shownHosts picks the host lines that fit under the used lines: all
// hosts if they fit, else the current batch's, the ones that failed, and
// then the current wave's, in inventory order.
func (v *View) shownHosts(used int) (shown []string, hidden int) {
	room := len(v.hosts)
	if v.opts.Height > 0 {
		// One row for the "more hosts" line, one for the cursor's row
		// under the block.
		room = max(v.opts.Height-used-2, 1)
	}
	if len(v.hosts) <= room {
		return v.hosts, 0
	}
	pick := map[string]bool{}
	n := 0
	for _, group := range [][]string{v.batchHosts, v.downHosts(), v.waveHosts, v.hosts} {
		for _, h := range group {
			if n < room && !pick[h] {
				pick[h] = true
				n++
			}
		}
	}
	for _, h := range v.hosts {
		if pick[h] {
			shown = append(shown, h)
		}
	}
	return shown, len(v.hosts) - len(shown)
}

func (v *View) downHosts() []string {
	return slices.DeleteFunc(slices.Clone(v.hosts), func(h string) bool { return !v.host[h].down })
}
