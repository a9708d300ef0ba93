package transporttest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"

	"github.com/osrun/osrun/transports"
)

// CheckExit reports how err differs from what Run must return for a
// command that exited with status.
func CheckExit(err error, command string, status int) error {
	if status == 0 {
		if err != nil {
			return fmt.Errorf("exit 0: Run = %v, want nil", err)
		}
		return nil
	}
	var ee *transports.ExitError
	if !errors.As(err, &ee) {
		return fmt.Errorf("exit %d: Run = %v (%T), want a *transports.ExitError", status, err, err)
	}
	if ee.Status != status {
		return fmt.Errorf("exit %d: ExitError.Status = %d", status, ee.Status)
	}
	if ee.Command != command {
		return fmt.Errorf("exit %d: ExitError.Command = %q, want %q", status, ee.Command, command)
	}
	return nil
}

// CheckListing compares a directory listing (one name per line) with the
// names expected, so leftovers such as temporary upload files show up.
func CheckListing(listing string, want []string) error {
	var got []string
	for _, l := range strings.Split(NormalizeNewlines(listing), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			got = append(got, l)
		}
	}
	slices.Sort(got)
	w := slices.Clone(want)
	slices.Sort(w)
	if !slices.Equal(got, w) {
		return fmt.Errorf("directory holds %q, want exactly %q", got, w)
	}
	return nil
}

// NormalizeNewlines turns CRLF into LF, for shells that write CRLF.
func NormalizeNewlines(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// WatchWriter records what is written and closes Seen once the output
// contains a marker.
type WatchWriter struct {
	marker string
	mu     sync.Mutex
	buf    bytes.Buffer
	seen   chan struct{}
	once   sync.Once
}

// NewWatchWriter returns a writer watching for marker.
func NewWatchWriter(marker string) *WatchWriter {
	return &WatchWriter{marker: marker, seen: make(chan struct{})}
}

func (w *WatchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.marker) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

// Seen is closed once the marker was written.
func (w *WatchWriter) Seen() <-chan struct{} { return w.seen }

func (w *WatchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// PatternWriter checks, without keeping it, that a stream is Chunk
// repeated, so large outputs cost no memory in the test either.
type PatternWriter struct {
	Chunk string
	n     int
	bad   error
}

func (w *PatternWriter) Write(p []byte) (int, error) {
	for _, b := range p {
		if w.bad == nil && b != w.Chunk[w.n%len(w.Chunk)] {
			w.bad = fmt.Errorf("output byte %d is %q, want %q", w.n, b, w.Chunk[w.n%len(w.Chunk)])
		}
		w.n++
	}
	return len(p), nil
}

// Check reports whether exactly n bytes of the pattern were written.
func (w *PatternWriter) Check(n int) error {
	if w.bad != nil {
		return w.bad
	}
	if w.n != n {
		return fmt.Errorf("output has %d bytes, want %d", w.n, n)
	}
	return nil
}

func fsMode(m uint32) fs.FileMode { return fs.FileMode(m) }
