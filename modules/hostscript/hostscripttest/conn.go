package hostscripttest

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

	"github.com/osrun/osrun/transports"
)

// Call is one command a test Conn received.
type Call struct {
	Command string
	Become  bool
	Stdin   string
}

// Uploaded is one upload a test Conn received.
type Uploaded struct {
	Dst     string
	SHA256  string
	Skipped bool // the destination already had that content
}

// recorder is the bookkeeping both test Conns share.
type recorder struct {
	mu      sync.Mutex
	calls   []Call
	uploads []Uploaded
}

func (r *recorder) record(c Call) {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
}

// Calls returns the commands run so far, in order.
func (r *recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

// Uploads returns the uploads so far, in order.
func (r *recorder) Uploads() []Uploaded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Uploaded(nil), r.uploads...)
}

func readStdin(cmd *transports.Cmd) (string, error) {
	if cmd.Stdin == nil {
		return "", nil
	}
	b, err := io.ReadAll(cmd.Stdin)
	return string(b), err
}

// ShellConn runs each command with /bin/sh -c in Dir, with Bin first on
// PATH so fake programs (service, rpm, ...) answer instead of real ones.
// Become is recorded, not acted on. Uploads write Dst atomically and
// verify SHA256, as the transports promise.
type ShellConn struct {
	Dir string
	Bin string
	Env []string // extra KEY=value pairs
	recorder
}

func (c *ShellConn) Shell() string { return "sh" }
func (c *ShellConn) Close() error  { return nil }

func (c *ShellConn) Run(ctx context.Context, cmd *transports.Cmd) error {
	in, err := readStdin(cmd)
	if err != nil {
		return err
	}
	c.record(Call{Command: cmd.Command, Become: cmd.Become, Stdin: in})
	x := exec.CommandContext(ctx, "/bin/sh", "-c", cmd.Command)
	x.Dir = c.Dir
	x.Env = append([]string{
		"PATH=" + c.Bin + ":/usr/bin:/bin",
		"HOME=" + c.Dir,
		"SANDBOX=" + c.Dir,
		"LC_ALL=C",
	}, c.Env...)
	x.Stdin = strings.NewReader(in)
	x.Stdout, x.Stderr = orDiscard(cmd.Stdout), orDiscard(cmd.Stderr)
	err = x.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("run: %w", ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &transports.ExitError{Command: cmd.Command, Status: ee.ExitCode()}
	}
	return err
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

func (c *ShellConn) Upload(ctx context.Context, u transports.Upload) error {
	data, err := io.ReadAll(u.Src)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	got := hex.EncodeToString(sum[:])
	if u.SHA256 != "" && !strings.EqualFold(u.SHA256, got) {
		return fmt.Errorf("upload %s: sha256 %s, expected %s", u.Dst, got, u.SHA256)
	}
	if old, err := os.ReadFile(u.Dst); err == nil && bytes.Equal(old, data) && u.SHA256 != "" {
		c.mu.Lock()
		c.uploads = append(c.uploads, Uploaded{Dst: u.Dst, SHA256: got, Skipped: true})
		c.mu.Unlock()
		return nil
	}
	tmp := filepath.Join(filepath.Dir(u.Dst), "."+filepath.Base(u.Dst)+".part")
	mode := u.Mode
	if mode == 0 {
		mode = 0o600
	}
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("upload %s: %w", u.Dst, err)
	}
	if err := os.Rename(tmp, u.Dst); err != nil {
		return fmt.Errorf("upload %s: %w", u.Dst, err)
	}
	c.mu.Lock()
	c.uploads = append(c.uploads, Uploaded{Dst: u.Dst, SHA256: got})
	c.mu.Unlock()
	return nil
}

// Reply is how FakeConn answers one command.
type Reply struct {
	Stdout string
	Stderr string
	Status int   // non-zero becomes a *transports.ExitError
	Err    error // returned as is (e.g. transports.ErrConnectionLost)
}

// FakeConn answers each command with Handle, which usually dispatches on
// hostscript.ID(call.Command). Uploads are recorded; Files holds the
// SHA-256 of what each destination contains, so an upload whose digest is
// already there is skipped like a real transport does.
type FakeConn struct {
	ShellName string // "powershell" or "sh"
	Handle    func(Call) Reply
	UploadErr error
	Files     map[string]string
	recorder
}

func (c *FakeConn) Shell() string { return c.ShellName }
func (c *FakeConn) Close() error  { return nil }

func (c *FakeConn) Run(ctx context.Context, cmd *transports.Cmd) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	in, err := readStdin(cmd)
	if err != nil {
		return err
	}
	call := Call{Command: cmd.Command, Become: cmd.Become, Stdin: in}
	c.record(call)
	r := c.Handle(call)
	if cmd.Stdout != nil {
		io.WriteString(cmd.Stdout, r.Stdout)
	}
	if cmd.Stderr != nil {
		io.WriteString(cmd.Stderr, r.Stderr)
	}
	if r.Err != nil {
		return r.Err
	}
	if r.Status != 0 {
		return &transports.ExitError{Command: cmd.Command, Status: r.Status}
	}
	return nil
}

func (c *FakeConn) Upload(ctx context.Context, u transports.Upload) error {
	data, err := io.ReadAll(u.Src)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	got := hex.EncodeToString(sum[:])
	if u.SHA256 != "" && !strings.EqualFold(u.SHA256, got) {
		return fmt.Errorf("upload %s: sha256 %s, expected %s", u.Dst, got, u.SHA256)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.UploadErr != nil {
		return c.UploadErr
	}
	if c.Files == nil {
		c.Files = map[string]string{}
	}
	skipped := u.SHA256 != "" && c.Files[u.Dst] == got
	c.Files[u.Dst] = got
	c.uploads = append(c.uploads, Uploaded{Dst: u.Dst, SHA256: got, Skipped: skipped})
	return nil
}
