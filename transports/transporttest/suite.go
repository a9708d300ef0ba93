package transporttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osrun/osrun/transports"
)

// Limits for the timing checks: generous, because CI machines are slow,
// yet far below the 30 s a command sleeps. Variables only so this
// package's own tests can shorten them.
var (
	promptly   = 10 * time.Second
	commandMax = 60 * time.Second
)

// Run runs the conformance suite. open must return a fresh, connected Conn
// and may register its own cleanup; the suite closes it too.
func Run(t *testing.T, open func(t *testing.T) transports.Conn) {
	t.Helper()
	s := &suite{open: open}
	t.Run("Shell", s.testShell)
	t.Run("StdoutStderr", s.testStdoutStderr)
	t.Run("NilWriters", s.testNilWriters)
	t.Run("ExitStatus", s.testExitStatus)
	t.Run("Stdin", s.testStdin)
	t.Run("StreamsWhileRunning", s.testStreams)
	t.Run("LargeOutput", s.testLargeOutput)
	t.Run("Upload", s.testUpload)
	t.Run("Cancel", s.testCancel)
	t.Run("CancelledBeforeRun", s.testCancelledBefore)
	t.Run("Close", s.testClose)
}

// RunUpload runs only the upload tests, for a transport with several ways
// of uploading.
func RunUpload(t *testing.T, open func(t *testing.T) transports.Conn) {
	t.Helper()
	s := &suite{open: open}
	s.testUpload(t)
}

type suite struct {
	open func(t *testing.T) transports.Conn
}

// conn opens a Conn and its dialect, closing it when the test ends.
func (s *suite) conn(t *testing.T) (transports.Conn, Dialect) {
	t.Helper()
	c := s.open(t)
	t.Cleanup(func() { c.Close() })
	d, err := ForShell(c.Shell())
	if err != nil {
		t.Fatal(err)
	}
	return c, d
}

// run runs command and returns its output; err is the Run error.
func run(t *testing.T, c transports.Conn, command string, stdin io.Reader) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), commandMax)
	defer cancel()
	var o, e bytes.Buffer
	err = c.Run(ctx, &transports.Cmd{Command: command, Stdin: stdin, Stdout: &o, Stderr: &e})
	return o.String(), e.String(), err
}

// mustRun runs command and fails the test unless it exits 0.
func mustRun(t *testing.T, c transports.Conn, command string) string {
	t.Helper()
	out, errOut, err := run(t, c, command, nil)
	if err != nil {
		t.Fatalf("run %q: %v (stderr %q)", command, err, errOut)
	}
	return out
}

func (s *suite) testShell(t *testing.T) {
	c, _ := s.conn(t)
	if sh := c.Shell(); sh != "sh" && sh != "powershell" {
		t.Fatalf("Shell() = %q, want \"sh\" or \"powershell\"", sh)
	}
}

func (s *suite) testStdoutStderr(t *testing.T) {
	c, d := s.conn(t)
	out, errOut, err := run(t, c, d.Write("to stdout", "to stderr"), nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if out != "to stdout" || errOut != "to stderr" {
		t.Errorf("stdout %q, stderr %q; want %q, %q", out, errOut, "to stdout", "to stderr")
	}
}

func (s *suite) testNilWriters(t *testing.T) {
	c, d := s.conn(t)
	err := c.Run(t.Context(), &transports.Cmd{Command: d.Write("dropped", "dropped")})
	if err != nil {
		t.Fatalf("Run with nil Stdout and Stderr: %v", err)
	}
}

func (s *suite) testExitStatus(t *testing.T) {
	c, d := s.conn(t)
	for _, status := range []int{0, 1, 3, 42, 255} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			command := d.WriteExit("output before exit", status)
			out, _, err := run(t, c, command, nil)
			if err := CheckExit(err, command, status); err != nil {
				t.Error(err)
			}
			if out != "output before exit" {
				t.Errorf("stdout %q, want %q", out, "output before exit")
			}
		})
	}
}

func (s *suite) testStdin(t *testing.T) {
	c, d := s.conn(t)
	in := "first line\nsecond line with 'quotes' and $dollar\n"
	out, errOut, err := run(t, c, d.Cat, strings.NewReader(in))
	if err != nil {
		t.Fatalf("Run: %v (stderr %q)", err, errOut)
	}
	if got := NormalizeNewlines(out); got != in {
		t.Errorf("stdout %q, want stdin echoed %q", got, in)
	}
}

// testStreams proves output reaches the caller while the command still
// runs and that closing stdin reaches the command as end of file.
func (s *suite) testStreams(t *testing.T) {
	c, d := s.conn(t)
	pr, pw := io.Pipe()
	out := NewWatchWriter("ready")
	done := make(chan error, 1)
	go func() {
		done <- c.Run(t.Context(), &transports.Cmd{Command: d.ReadyThenDrain, Stdin: pr, Stdout: out})
	}()
	select {
	case <-out.Seen():
	case err := <-done:
		t.Fatalf("command ended before stdin was closed: %v (stdout %q)", err, out.String())
	case <-time.After(commandMax):
		t.Fatalf("no \"ready\" on stdout while the command waits for stdin: output is not streamed (got %q)", out.String())
	}
	if _, err := pw.Write([]byte("some input\n")); err != nil {
		t.Fatalf("write stdin: %v", err)
	}
	pw.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(commandMax):
		t.Fatal("command did not end after stdin was closed: end of file not delivered")
	}
	if got := out.String(); got != "readydone" {
		t.Errorf("stdout %q, want %q", got, "readydone")
	}
}

func (s *suite) testLargeOutput(t *testing.T) {
	c, d := s.conn(t)
	const n = 1 << 20 // 16 MiB
	w := &PatternWriter{Chunk: LargeChunk}
	var errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), commandMax)
	defer cancel()
	if err := c.Run(ctx, &transports.Cmd{Command: d.Large(n), Stdout: w, Stderr: &errOut}); err != nil {
		t.Fatalf("Run: %v (stderr %q)", err, errOut.String())
	}
	if err := w.Check(n * len(LargeChunk)); err != nil {
		t.Error(err)
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr %q, want empty", errOut.String())
	}
}

// remoteDir creates a temporary directory on the host for one test.
func remoteDir(t *testing.T, c transports.Conn, d Dialect) string {
	t.Helper()
	dir := strings.TrimSpace(mustRun(t, c, d.TempDir))
	if dir == "" {
		t.Fatal("TempDir wrote no path")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), commandMax)
		defer cancel()
		c.Run(ctx, &transports.Cmd{Command: d.RemoveAll(dir)})
	})
	return dir
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// checkFile verifies a remote file's digest, mode and that dir holds
// nothing but the files in want (no temporary files left behind).
func checkFile(t *testing.T, c transports.Conn, d Dialect, dir, name string, content []byte, mode uint32, want ...string) {
	t.Helper()
	p := d.Join(dir, name)
	if got := strings.TrimSpace(mustRun(t, c, d.SHA256(p))); got != digest(content) {
		t.Errorf("remote sha256 %s, want %s", got, digest(content))
	}
	if d.Mode != nil && mode != 0 {
		if got := strings.TrimSpace(mustRun(t, c, d.Mode(p))); got != fmt.Sprintf("%o", mode) {
			t.Errorf("remote mode %s, want %o", got, mode)
		}
	}
	if err := CheckListing(mustRun(t, c, d.List(dir)), want); err != nil {
		t.Error(err)
	}
}

func upload(t *testing.T, c transports.Conn, dst string, content []byte, mode uint32, sum string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), commandMax)
	defer cancel()
	return c.Upload(ctx, transports.Upload{
		Src: bytes.NewReader(content), Size: int64(len(content)), Dst: dst, Mode: fsMode(mode), SHA256: sum,
	})
}

func (s *suite) testUpload(t *testing.T) {
	t.Run("ContentAndMode", func(t *testing.T) {
		c, d := s.conn(t)
		dir := remoteDir(t, c, d)
		// Not a multiple of any plausible buffer size.
		content := randomBytes(t, 3<<20+17)
		if err := upload(t, c, d.Join(dir, "f.bin"), content, 0o640, ""); err != nil {
			t.Fatalf("Upload: %v", err)
		}
		checkFile(t, c, d, dir, "f.bin", content, 0o640, "f.bin")
	})
	t.Run("Empty", func(t *testing.T) {
		c, d := s.conn(t)
		dir := remoteDir(t, c, d)
		if err := upload(t, c, d.Join(dir, "empty"), nil, 0o600, ""); err != nil {
			t.Fatalf("Upload: %v", err)
		}
		checkFile(t, c, d, dir, "empty", nil, 0o600, "empty")
	})
	t.Run("Replace", func(t *testing.T) {
		c, d := s.conn(t)
		dir := remoteDir(t, c, d)
		dst := d.Join(dir, "f")
		a, b := randomBytes(t, 1000), randomBytes(t, 2000)
		if err := upload(t, c, dst, a, 0o644, ""); err != nil {
			t.Fatalf("first Upload: %v", err)
		}
		if err := upload(t, c, dst, b, 0o600, digest(b)); err != nil {
			t.Fatalf("second Upload: %v", err)
		}
		checkFile(t, c, d, dir, "f", b, 0o600, "f")
	})
	t.Run("WrongChecksumRefused", func(t *testing.T) {
		c, d := s.conn(t)
		dir := remoteDir(t, c, d)
		dst := d.Join(dir, "f")
		a, b := randomBytes(t, 1000), randomBytes(t, 1000)
		if err := upload(t, c, dst, a, 0o644, ""); err != nil {
			t.Fatalf("first Upload: %v", err)
		}
		// The declared digest does not match the content: the transport
		// must notice and leave the old file in place.
		if err := upload(t, c, dst, b, 0o644, digest(a[:999])); err == nil {
			t.Fatal("Upload with a wrong SHA256 succeeded")
		}
		checkFile(t, c, d, dir, "f", a, 0o644, "f")
	})
	t.Run("SkipWhenSame", func(t *testing.T) {
		c, d := s.conn(t)
		dir := remoteDir(t, c, d)
		dst := d.Join(dir, "f")
		a := randomBytes(t, 5000)
		if err := upload(t, c, dst, a, 0o644, ""); err != nil {
			t.Fatalf("first Upload: %v", err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), commandMax)
		defer cancel()
		err := c.Upload(ctx, transports.Upload{
			Src: failReader{}, Size: int64(len(a)), Dst: dst, Mode: 0o644, SHA256: digest(a),
		})
		if err != nil {
			t.Fatalf("Upload of identical content (must skip without reading Src): %v", err)
		}
		checkFile(t, c, d, dir, "f", a, 0o644, "f")
	})
	t.Run("CancelLeavesNothing", func(t *testing.T) {
		c, d := s.conn(t)
		dir := remoteDir(t, c, d)
		// A source that never ends, like a huge file: only the cancel
		// can stop the upload.
		src := &watchReader{r: endless{}, after: 1 << 20, reached: make(chan struct{})}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			done <- c.Upload(ctx, transports.Upload{Src: src, Dst: d.Join(dir, "f"), Mode: 0o644})
		}()
		select {
		case <-src.reached:
		case err := <-done:
			t.Fatalf("Upload ended before its source did: %v", err)
		case <-time.After(commandMax):
			t.Fatal("Upload did not read its source")
		}
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Upload = %v, want an error wrapping context.Canceled", err)
			}
		case <-time.After(promptly):
			t.Fatalf("Upload did not return within %v of the cancel", promptly)
		}
		if err := CheckListing(mustRun(t, c, d.List(dir)), nil); err != nil {
			t.Errorf("after a cancelled upload: %v", err)
		}
	})
	t.Run("FailingSourceLeavesNothing", func(t *testing.T) {
		c, d := s.conn(t)
		dir := remoteDir(t, c, d)
		src := io.MultiReader(bytes.NewReader(randomBytes(t, 100000)), failReader{})
		ctx, cancel := context.WithTimeout(t.Context(), commandMax)
		defer cancel()
		err := c.Upload(ctx, transports.Upload{Src: src, Size: 200000, Dst: d.Join(dir, "f"), Mode: 0o644})
		if err == nil {
			t.Fatal("Upload from a failing reader succeeded")
		}
		if err := CheckListing(mustRun(t, c, d.List(dir)), nil); err != nil {
			t.Errorf("after a failed upload: %v", err)
		}
	})
}

// endless reads as an infinite stream of 'x'.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// watchReader closes reached once after bytes were read.
type watchReader struct {
	r       io.Reader
	after   int
	n       int
	once    sync.Once
	reached chan struct{}
}

func (w *watchReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	w.n += n
	if w.n >= w.after {
		w.once.Do(func() { close(w.reached) })
	}
	return n, err
}

var errFailReader = errors.New("transporttest: Src must not be read")

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errFailReader }

func (s *suite) testCancel(t *testing.T) {
	for _, tc := range []struct {
		name string
		want error
		ctx  func(parent context.Context) (context.Context, context.CancelFunc)
	}{
		{"Cancel", context.Canceled, context.WithCancel},
		{"Deadline", context.DeadlineExceeded, newManualDeadline},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, d := s.conn(t)
			ctx, stop := tc.ctx(t.Context())
			defer stop()
			out := NewWatchWriter("\n")
			done := make(chan error, 1)
			go func() {
				done <- c.Run(ctx, &transports.Cmd{Command: d.PIDThenSleep, Stdout: out})
			}()
			select {
			case <-out.Seen():
			case err := <-done:
				t.Fatalf("command ended early: %v", err)
			case <-time.After(commandMax):
				t.Fatal("no pid written")
			}
			pid, err := strconv.Atoi(strings.TrimSpace(out.String()))
			if err != nil {
				t.Fatalf("pid: %v", err)
			}
			start := time.Now()
			stop()
			select {
			case err := <-done:
				if !errors.Is(err, tc.want) {
					t.Errorf("Run = %v, want an error wrapping %v", err, tc.want)
				}
			case <-time.After(promptly):
				t.Fatalf("Run did not return within %v", promptly)
			}
			t.Logf("Run returned %v after the context ended", time.Since(start).Round(time.Millisecond))
			if err := WaitGone(t, c, d, pid); err != nil {
				t.Error(err)
			}
			// The connection stays usable.
			if got := mustRun(t, c, d.Write("still usable", "")); got != "still usable" {
				t.Errorf("after cancel: stdout %q", got)
			}
		})
	}
}

// WaitGone polls, a bounded number of times, until process pid no longer
// runs on the host.
func WaitGone(t *testing.T, c transports.Conn, d Dialect, pid int) error {
	t.Helper()
	const tries = 50
	for i := 0; i < tries; i++ {
		_, _, err := run(t, c, d.Alive(pid), nil)
		if err == nil {
			time.Sleep(100 * time.Millisecond) // remote state: nothing to wait on locally
			continue
		}
		var ee *transports.ExitError
		if errors.As(err, &ee) && ee.Status == 1 {
			return nil
		}
		return fmt.Errorf("check process %d: %v", pid, err)
	}
	return fmt.Errorf("process %d still runs on the host after the command was cancelled", pid)
}

func (s *suite) testCancelledBefore(t *testing.T) {
	c, d := s.conn(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var out bytes.Buffer
	err := c.Run(ctx, &transports.Cmd{Command: d.Write("must not run", ""), Stdout: &out})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context = %v, want context.Canceled", err)
	}
	if out.Len() != 0 {
		t.Errorf("command ran despite a cancelled context: stdout %q", out.String())
	}
}

func (s *suite) testClose(t *testing.T) {
	c, d := s.conn(t)
	mustRun(t, c, d.Write("x", ""))
	if err := c.Close(); err != nil {
		t.Errorf("first Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, _, err := run(t, c, d.Write("x", ""), nil); err == nil {
		t.Error("Run after Close succeeded")
	}
}

// manualDeadline is a context whose deadline the test decides: Err reports
// DeadlineExceeded once fire is called. It exercises the deadline path
// without depending on how long anything takes.
type manualDeadline struct {
	context.Context
	once sync.Once
	done chan struct{}
	mu   sync.Mutex
	err  error
}

func newManualDeadline(parent context.Context) (context.Context, context.CancelFunc) {
	m := &manualDeadline{Context: parent, done: make(chan struct{})}
	return m, func() {
		m.once.Do(func() {
			m.mu.Lock()
			m.err = context.DeadlineExceeded
			m.mu.Unlock()
			close(m.done)
		})
	}
}

func (m *manualDeadline) Done() <-chan struct{} { return m.done }

func (m *manualDeadline) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

func (m *manualDeadline) Deadline() (time.Time, bool) { return time.Time{}, false }
