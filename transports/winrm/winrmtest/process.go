package winrmtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf16"
)

type shell struct {
	id   string
	cmds map[string]*command // guarded by Server.mu
	lost atomic.Bool         // the host "rebooted": nothing more is answered
}

// exitTerminated is what Windows reports for a console process killed by
// a terminate signal (STATUS_CONTROL_C_EXIT).
const exitTerminated = -1073741510

// command is one process: its output is buffered until Receive takes it,
// as the WinRM service does.
type command struct {
	id   string
	line string

	stdin *inputBuffer

	mu         sync.Mutex
	stdout     bytes.Buffer
	stderr     bytes.Buffer
	exited     bool
	exitCode   int
	terminated bool
	changed    chan struct{} // closed and replaced on every change
	cancel     context.CancelFunc
}

func newCommand(id, line string) *command {
	return &command{id: id, line: line, stdin: newInputBuffer(), changed: make(chan struct{})}
}

func (c *command) broadcastLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

type streamWriter struct {
	c   *command
	buf *bytes.Buffer
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	if w.c.exited {
		return 0, errors.New("process has exited")
	}
	w.buf.Write(p)
	w.c.broadcastLocked()
	return len(p), nil
}

func (c *command) run(base context.Context, h Handler) {
	ctx, cancel := context.WithCancel(base)
	c.mu.Lock()
	c.cancel = cancel
	terminated := c.terminated
	c.mu.Unlock()
	defer cancel()
	if terminated {
		cancel()
	}
	stdout := streamWriter{c, &c.stdout}
	stderr := streamWriter{c, &c.stderr}
	code := execute(ctx, h, c.line, c.stdin, stdout, stderr)
	c.mu.Lock()
	if c.terminated {
		code = exitTerminated
	}
	c.exited = true
	c.exitCode = code
	c.broadcastLocked()
	c.mu.Unlock()
	c.stdin.closeWithError(errors.New("process has exited"))
}

// execute decodes the command line the way powershell.exe would and runs
// the script through h.
func execute(ctx context.Context, h Handler, line string, stdin io.Reader, stdout, stderr io.Writer) int {
	script, isPS, err := DecodeCommandLine(line)
	if err != nil {
		fmt.Fprintf(stderr, "%v\r\n", err)
		return 1
	}
	if isPS {
		return h.Run(ctx, script, stdin, stdout, stderr)
	}
	if ch, ok := h.(CmdHandler); ok {
		return ch.RunCmd(ctx, line, stdin, stdout, stderr)
	}
	prog, _, _ := strings.Cut(strings.TrimSpace(line), " ")
	fmt.Fprintf(stderr, "'%s' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", prog)
	return 1
}

// DecodeCommandLine recognises "powershell[.exe] [options] -EncodedCommand
// <base64>" (also -enc and -e) and returns the decoded script. ok is false
// for any other command line.
func DecodeCommandLine(line string) (script string, ok bool, err error) {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return "", false, nil
	}
	prog := strings.ToLower(fields[0])
	if prog != "powershell" && prog != "powershell.exe" && prog != "pwsh" && prog != "pwsh.exe" {
		return "", false, nil
	}
	for i := 1; i < len(fields); i++ {
		f := strings.ToLower(fields[i])
		if !strings.HasPrefix(f, "-e") || !strings.HasPrefix("-encodedcommand", f) {
			continue
		}
		if i+1 >= len(fields) {
			return "", true, errors.New("Missing the argument for parameter -EncodedCommand.")
		}
		s, err := DecodeScript(fields[i+1])
		if err != nil {
			return "", true, fmt.Errorf("Cannot process the command because the value specified with -EncodedCommand is not properly encoded: %w", err)
		}
		return s, true, nil
	}
	return "", true, errors.New("osrun winrmtest only runs powershell -EncodedCommand")
}

// DecodeScript decodes base64 of UTF-16LE text, the -EncodedCommand format.
func DecodeScript(b64 string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", err
	}
	if len(raw)%2 != 0 {
		return "", errors.New("odd number of bytes in UTF-16 text")
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
	}
	return string(utf16.Decode(u)), nil
}

// take removes up to max bytes of each stream. done is true once the
// process has exited and both streams are drained; wait is closed on the
// next change.
func (c *command) take(max int) (out, errOut []byte, done bool, exit int, wait <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out = bytes.Clone(c.stdout.Next(max))
	errOut = bytes.Clone(c.stderr.Next(max))
	done = c.exited && c.stdout.Len() == 0 && c.stderr.Len() == 0
	return out, errOut, done, c.exitCode, c.changed
}

func (c *command) terminate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.exited || c.terminated {
		return
	}
	c.terminated = true
	if c.cancel != nil {
		c.cancel()
	}
	c.stdin.closeWithError(context.Canceled)
	c.broadcastLocked()
}

// inputBuffer is an unbounded pipe: Send never blocks on a process that is
// not reading, as the WinRM service buffers stdin.
type inputBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	eof    bool
	err    error
	signal chan struct{}
}

func newInputBuffer() *inputBuffer { return &inputBuffer{signal: make(chan struct{})} }

func (b *inputBuffer) write(p []byte, end bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.eof || b.err != nil {
		return
	}
	b.buf.Write(p)
	b.eof = end
	close(b.signal)
	b.signal = make(chan struct{})
}

func (b *inputBuffer) closeWithError(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil {
		b.err = err
	}
	close(b.signal)
	b.signal = make(chan struct{})
}

func (b *inputBuffer) Read(p []byte) (int, error) {
	for {
		b.mu.Lock()
		if b.buf.Len() > 0 {
			n, _ := b.buf.Read(p)
			b.mu.Unlock()
			return n, nil
		}
		if b.eof {
			b.mu.Unlock()
			return 0, io.EOF
		}
		if b.err != nil {
			err := b.err
			b.mu.Unlock()
			return 0, err
		}
		ch := b.signal
		b.mu.Unlock()
		<-ch
	}
}
