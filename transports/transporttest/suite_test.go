package transporttest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/osrun/osrun/transports"
)

// TestSuiteAgainstExec runs the suite against a minimal os/exec Conn, so
// the suite itself is known to be passable independently of any transport.
func TestSuiteAgainstExec(t *testing.T) {
	Run(t, func(t *testing.T) transports.Conn { return &execConn{} })
}

func TestCheckExit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		status  int
		wantBad bool
	}{
		{"zero ok", nil, 0, false},
		{"zero but error", errors.New("boom"), 0, true},
		{"status ok", fmt.Errorf("wrapped: %w", &transports.ExitError{Command: "c", Status: 3}), 3, false},
		{"wrong status", &transports.ExitError{Command: "c", Status: 4}, 3, true},
		{"wrong command", &transports.ExitError{Command: "other", Status: 3}, 3, true},
		{"untyped error", errors.New("exit status 3"), 3, true},
		{"nil for non-zero", nil, 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckExit(tc.err, "c", tc.status); (err != nil) != tc.wantBad {
				t.Errorf("CheckExit = %v, want failure %v", err, tc.wantBad)
			}
		})
	}
}

func TestCheckListing(t *testing.T) {
	for _, tc := range []struct {
		name, listing string
		want          []string
		wantBad       bool
	}{
		{"exact", "f\n", []string{"f"}, false},
		{"crlf", "b\r\na\r\n", []string{"a", "b"}, false},
		{"leftover temp file", "f\n.f.osrun-tmp\n", []string{"f"}, true},
		{"missing", "", []string{"f"}, true},
		{"empty", "\n", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckListing(tc.listing, tc.want); (err != nil) != tc.wantBad {
				t.Errorf("CheckListing = %v, want failure %v", err, tc.wantBad)
			}
		})
	}
}

func TestPatternWriter(t *testing.T) {
	for _, tc := range []struct {
		name    string
		writes  []string
		n       int
		wantBad bool
	}{
		{"split across writes", []string{"0123", "456789abcdef01"}, 18, false},
		{"short", []string{"0123"}, 16, true},
		{"corrupt", []string{"0123456789abcdeX"}, 16, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &PatternWriter{Chunk: LargeChunk}
			for _, s := range tc.writes {
				w.Write([]byte(s))
			}
			if err := w.Check(tc.n); (err != nil) != tc.wantBad {
				t.Errorf("Check = %v, want failure %v", err, tc.wantBad)
			}
		})
	}
}

func TestForShell(t *testing.T) {
	if _, err := ForShell("cmd.exe"); err == nil {
		t.Error("ForShell accepted an unknown shell")
	}
	d, err := ForShell("powershell")
	if err != nil || d.Write("a'b", "c") != "[Console]::Out.Write('a''b'); [Console]::Error.Write('c')" {
		t.Errorf("powershell Write = %q, %v", d.Write("a'b", "c"), err)
	}
	if got := d.Join(`C:\Temp\x`, "f"); got != `C:\Temp\x\f` {
		t.Errorf("Join = %q", got)
	}
}

// TestSuiteCatchesBrokenConns runs the suite, in a child process, against
// Conns with one flaw each, and checks that the right test fails.
func TestSuiteCatchesBrokenConns(t *testing.T) {
	for _, tc := range []struct{ flaw, test string }{
		{"merged-stderr", "StdoutStderr"},
		{"untyped-exit", "ExitStatus"},
		{"no-stdin", "Stdin"},
		{"buffered-output", "StreamsWhileRunning"},
		{"kills-shell-only", "Cancel"},
		{"ignores-checksum", "Upload/WrongChecksumRefused"},
		{"never-skips", "Upload/SkipWhenSame"},
		{"in-place-write", "Upload/FailingSourceLeavesNothing"},
		{"close-once", "Close"},
	} {
		t.Run(tc.flaw, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenConnHelper$/^"+strings.ReplaceAll(tc.test, "/", "$/^")+"$", "-test.v")
			cmd.Env = append(os.Environ(), "TRANSPORTTEST_FLAW="+tc.flaw)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a Conn with flaw %q:\n%s", tc.flaw, out)
			}
			if want := "--- FAIL: TestBrokenConnHelper/" + tc.test; !strings.Contains(string(out), want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		})
	}
}

// TestBrokenConnHelper is the child process of TestSuiteCatchesBrokenConns.
func TestBrokenConnHelper(t *testing.T) {
	flaw := os.Getenv("TRANSPORTTEST_FLAW")
	if flaw == "" {
		t.Skip("only run by TestSuiteCatchesBrokenConns")
	}
	// The flaws make some tests wait for their limits: keep that short.
	promptly, commandMax = 2*time.Second, 3*time.Second
	Run(t, func(t *testing.T) transports.Conn { return &execConn{flaw: flaw} })
}

// execConn runs commands with /bin/sh on this machine; flaw names a
// deliberate defect.
type execConn struct {
	flaw   string
	mu     sync.Mutex
	closed bool
}

func (c *execConn) Shell() string { return "sh" }

func (c *execConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed && c.flaw == "close-once" {
		return errors.New("already closed")
	}
	c.closed = true
	return nil
}

func (c *execConn) Run(ctx context.Context, cmd *transports.Cmd) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return errors.New("connection closed")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	x := exec.Command("/bin/sh", "-c", cmd.Command)
	x.Stdin, x.Stdout, x.Stderr = cmd.Stdin, cmd.Stdout, cmd.Stderr
	var buf bytes.Buffer
	switch c.flaw {
	case "merged-stderr":
		x.Stderr = cmd.Stdout
	case "no-stdin":
		x.Stdin = nil
	case "buffered-output":
		x.Stdout = &buf
	}
	x.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := x.Start(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() {
		if c.flaw == "kills-shell-only" {
			x.Process.Kill()
			return
		}
		syscall.Kill(-x.Process.Pid, syscall.SIGKILL)
	})
	err := x.Wait()
	if cmd.Stdout != nil {
		cmd.Stdout.Write(buf.Bytes())
	}
	if !stop() {
		return fmt.Errorf("run: %w", ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if c.flaw == "untyped-exit" {
			return err
		}
		return &transports.ExitError{Command: cmd.Command, Status: ee.ExitCode()}
	}
	return err
}

func (c *execConn) Upload(ctx context.Context, u transports.Upload) error {
	if u.SHA256 != "" && c.flaw != "never-skips" {
		if b, err := os.ReadFile(u.Dst); err == nil {
			h := sha256.Sum256(b)
			if hex.EncodeToString(h[:]) == u.SHA256 {
				return os.Chmod(u.Dst, u.Mode)
			}
		}
	}
	if c.flaw == "in-place-write" {
		f, err := os.Create(u.Dst)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(f, u.Src)
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(u.Dst), ".upload-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	h := sha256.New()
	copied := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.MultiWriter(f, h), u.Src)
		copied <- err
	}()
	select {
	case err = <-copied:
	case <-ctx.Done():
		f.Close() // the copy fails on its next write
		return ctx.Err()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); u.SHA256 != "" && !strings.EqualFold(got, u.SHA256) && c.flaw != "ignores-checksum" {
		return fmt.Errorf("checksum %s, want %s", got, u.SHA256)
	}
	if err := os.Chmod(f.Name(), u.Mode); err != nil {
		return err
	}
	return os.Rename(f.Name(), u.Dst)
}
