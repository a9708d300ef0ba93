package hostscript

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"

	"github.com/osrun/osrun/transports"
)

// Runner is the part of transports.Conn that Exec needs.
type Runner interface {
	Run(ctx context.Context, cmd *transports.Cmd) error
}

// MarkerPrefix starts a line by which a script reports a value to osrun
// ("osrun-version=11.31.0"). Such lines are not shown as progress.
const MarkerPrefix = "osrun-"

// DefaultTailLines is how many output lines Exec keeps for error messages
// when Script.TailLines is zero.
const DefaultTailLines = 40

// Script is one rendered script and how to run it.
type Script struct {
	Text   string
	Stdin  io.Reader
	Become bool
	// Progress receives each output line that is not a marker, from stdout
	// and stderr as they arrive; nil discards them.
	Progress  func(line string)
	TailLines int
}

// Output is what a script printed.
type Output struct {
	mu     sync.Mutex
	values map[string]string
	tail   []string
	max    int
}

// Value returns the last value the script reported for key, and whether
// it reported one.
func (o *Output) Value(key string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	v, ok := o.values[key]
	return v, ok
}

// Tail returns the last non-marker lines of output, oldest first.
func (o *Output) Tail() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.tail...)
}

func (o *Output) line(s string, stdout bool, progress func(string)) {
	s = strings.TrimRight(s, "\r")
	if stdout && strings.HasPrefix(s, MarkerPrefix) {
		if k, v, ok := strings.Cut(s[len(MarkerPrefix):], "="); ok {
			o.mu.Lock()
			o.values[k] = v
			o.mu.Unlock()
			return
		}
	}
	o.mu.Lock()
	o.tail = append(o.tail, s)
	if len(o.tail) > o.max {
		o.tail = o.tail[len(o.tail)-o.max:]
	}
	o.mu.Unlock()
	if progress != nil {
		progress(s)
	}
}

// lineWriter splits one stream into lines. Each stream has its own, so a
// line is never torn between stdout and stderr.
type lineWriter struct {
	out      *Output
	stdout   bool
	progress func(string)
	partial  []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			break
		}
		w.partial = append(w.partial, p[:i]...)
		w.out.line(string(w.partial), w.stdout, w.progress)
		w.partial = w.partial[:0]
		p = p[i+1:]
	}
	w.partial = append(w.partial, p...)
	return n, nil
}

func (w *lineWriter) flush() {
	if len(w.partial) > 0 {
		w.out.line(string(w.partial), w.stdout, w.progress)
		w.partial = nil
	}
}

// Exec runs s over r. The Output is returned even when the script fails, so
// the caller can put its tail in the error; the error is the transport's
// (an *transports.ExitError for a non-zero exit), for the caller to wrap.
func Exec(ctx context.Context, r Runner, s Script) (*Output, error) {
	max := s.TailLines
	if max <= 0 {
		max = DefaultTailLines
	}
	out := &Output{values: map[string]string{}, max: max}
	stdout := &lineWriter{out: out, stdout: true, progress: s.Progress}
	stderr := &lineWriter{out: out, progress: s.Progress}
	err := r.Run(ctx, &transports.Cmd{
		Command: s.Text,
		Stdin:   s.Stdin,
		Stdout:  stdout,
		Stderr:  stderr,
		Become:  s.Become,
	})
	stdout.flush()
	stderr.flush()
	return out, err
}

// IDPrefix starts the first line of every osrun host script, followed by
// the script's id ("# osrun:service/windows_status"). Simulated hosts in
// tests and the lab farm dispatch on it; a reviewer sees which template
// produced a script found in a log.
const IDPrefix = "# osrun:"

// ID returns the id on a script's first line, or "" if it has none.
func ID(script string) string {
	first, _, _ := strings.Cut(script, "\n")
	first = strings.TrimRight(first, "\r")
	id, ok := strings.CutPrefix(first, IDPrefix)
	if !ok {
		return ""
	}
	return strings.TrimSpace(id)
}
