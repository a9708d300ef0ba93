// Package local is the transport for the machine running osrun: commands
// run under /bin/sh -c and uploads are plain file copies. It lets the runner
// and modules be exercised end to end without a remote host, and serves
// inventory hosts declared with transport = "local".
package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/transports"
)

// Conn runs commands on the local machine.
type Conn struct {
	// Dir is the working directory for commands ("" = osrun's own).
	Dir    string
	closed atomic.Bool
}

// errClosed is returned by calls on a closed connection.
var errClosed = errors.New("local: connection is closed")

// New returns a local connection.
func New() *Conn { return &Conn{} }

// Dialer opens local connections for the runner.
type Dialer struct{}

// Dial returns a local connection; it never fails.
func (Dialer) Dial(ctx context.Context, h *inventory.Host) (transports.Conn, error) {
	return New(), nil
}

// Shell reports that commands are POSIX shell.
func (c *Conn) Shell() string { return "sh" }

// Close marks the connection closed; later calls fail. It is idempotent.
func (c *Conn) Close() error {
	c.closed.Store(true)
	return nil
}

// Run runs cmd.Command with /bin/sh -c. The command gets its own process
// group so that cancellation kills everything it started, not only the shell.
func (c *Conn) Run(ctx context.Context, cmd *transports.Cmd) error {
	if c.closed.Load() {
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("local: command not started: %w", err)
	}
	if cmd.Become && os.Geteuid() != 0 {
		return fmt.Errorf("local: become requested but osrun is not running as root; run it with sudo or set become = false")
	}
	sh := exec.Command("/bin/sh", "-c", cmd.Command)
	sh.Dir = c.Dir
	sh.Stdin = cmd.Stdin
	sh.Stdout = orDiscard(cmd.Stdout)
	sh.Stderr = orDiscard(cmd.Stderr)
	sh.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sh.Start(); err != nil {
		return fmt.Errorf("local: start command: %w", err)
	}
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		// Negative pid: the whole process group.
		_ = syscall.Kill(-sh.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			_ = syscall.Kill(-sh.Process.Pid, syscall.SIGKILL)
		}
	})
	err := sh.Wait()
	close(done)
	stop()
	if ctx.Err() != nil {
		return fmt.Errorf("local: command cancelled: %w", ctx.Err())
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		status := exit.ExitCode()
		if status < 0 { // killed by a signal
			status = 128 + int(exit.Sys().(syscall.WaitStatus).Signal())
		}
		return &transports.ExitError{Command: cmd.Command, Status: status}
	}
	if err != nil {
		return fmt.Errorf("local: wait for command: %w", err)
	}
	return nil
}

// Upload copies u.Src to u.Dst through a temporary file in the same
// directory, so readers never see a partial file, and checks the digest.
func (c *Conn) Upload(ctx context.Context, u transports.Upload) error {
	if c.closed.Load() {
		return errClosed
	}
	dst := u.Dst
	if !filepath.IsAbs(dst) && c.Dir != "" {
		dst = filepath.Join(c.Dir, dst)
	}
	if u.SHA256 != "" {
		if sum, err := fileSHA256(dst); err == nil && sum == u.SHA256 {
			return nil
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".osrun-*")
	if err != nil {
		return fmt.Errorf("local: upload %s: %w", u.Dst, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, u.Src})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("local: upload %s: %w", u.Dst, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if u.SHA256 != "" && got != u.SHA256 {
		return fmt.Errorf("local: upload %s: checksum mismatch: source has sha256 %s, expected %s", u.Dst, got, u.SHA256)
	}
	// Verify what landed on disk, not only what we wrote.
	if onDisk, err := fileSHA256(tmp.Name()); err != nil || onDisk != got {
		return fmt.Errorf("local: upload %s: written file does not match the source (sha256 %s vs %s)", u.Dst, onDisk, got)
	}
	mode := u.Mode
	if mode == 0 {
		mode = 0o644
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return fmt.Errorf("local: upload %s: %w", u.Dst, err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("local: upload %s: %w", u.Dst, err)
	}
	return nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
