package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/transports"
)

// Bounds on the clean-up after a cancelled command.
const (
	killTimeout = 10 * time.Second // the session that kills the process group
	markerWait  = 5 * time.Second  // waiting for the process group id
	closeWait   = 5 * time.Second  // waiting for the server to close the session
)

// awaitClose waits, for a bounded time, for the session's Wait to return.
// A server keeps a session open while any process holds its output pipes;
// if one survived, Run returns anyway (its writers are gated).
func awaitClose(waitc <-chan error) {
	t := time.NewTimer(closeWait)
	defer t.Stop()
	select {
	case <-waitc:
	case <-t.C:
	}
}

// gate forwards writes until shut, then drops them. A failing writer is
// remembered, not returned: the output must still be drained, or the
// remote command would block once the channel window fills.
type gate struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
	err    error
}

func (g *gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || g.err != nil {
		return len(p), nil
	}
	if _, err := g.w.Write(p); err != nil {
		g.err = err
	}
	return len(p), nil
}

func (g *gate) failure() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

func (g *gate) shut() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// Run runs cmd.Command with /bin/sh -c on the host.
//
// The command line sent to the server first prints, on stderr, a line with
// a random marker and the process group id, then execs the command (under
// sudo for become). Run strips that line from stderr; with become, a second
// marker line printed by the elevated shell tells Run that sudo is done
// with stdin, so the password is written only when sudo prompts for it and
// the caller's stdin only after sudo let the command start.
func (c *Conn) Run(ctx context.Context, cmd *transports.Cmd) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ssh %s: run: %w", c.host.Name, err)
	}
	timeout := c.host.SSH.CommandTimeout
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	sess, err := c.session(ctx)
	if err != nil {
		return err
	}
	defer sess.Close()

	become := cmd.Become || c.host.SSH.Become
	pw := c.host.SSH.BecomePassword
	m := "osrun-" + nonce()
	line := commandLine(m, cmd.Command, become, pw)

	stdin, err := sess.StdinPipe()
	if err != nil {
		return fmt.Errorf("ssh %s: stdin: %w", c.host.Name, err)
	}
	feeder := &stdinFeeder{w: stdin, src: cmd.Stdin, done: make(chan struct{})}
	// Once Run returns, nothing may write to the caller's writers, even if
	// a remote process we failed to stop still produces output.
	stdout, stderr := &gate{w: nonNil(cmd.Stdout)}, &gate{w: nonNil(cmd.Stderr)}
	defer stdout.shut()
	defer stderr.shut()
	f := newStderrFilter(m, become, stderr)
	f.onPrompt = func(n int) error {
		if pw.IsZero() {
			return errors.New("become: sudo asks for a password and no become_password is configured")
		}
		if n > 1 {
			return errors.New("become: sudo refused the become password")
		}
		return feeder.password(pw)
	}
	f.onReady = feeder.start
	sess.Stdout = stdout
	sess.Stderr = f

	if err := sess.Start(line); err != nil {
		if errors.Is(err, io.EOF) {
			// The request may have reached the server: the command may run.
			return fmt.Errorf("ssh %s: start command: %w", c.host.Name, transports.ErrConnectionLost)
		}
		return fmt.Errorf("ssh %s: start command: %w", c.host.Name, err)
	}
	if !become {
		feeder.start()
	}
	waitc := make(chan error, 1)
	go func() { waitc <- sess.Wait() }()

	select {
	case err = <-waitc:
	case <-ctx.Done():
		c.kill(sess, f, become, pw)
		awaitClose(waitc)
		return fmt.Errorf("ssh %s: run cancelled, remote command killed: %w", c.host.Name, ctx.Err())
	case <-f.failed:
		// sudo is still at its prompt and the command has not started:
		// closing the session ends sudo (end of file on its stdin).
		sess.Close()
		awaitClose(waitc)
		return fmt.Errorf("ssh %s: %w", c.host.Name, f.err())
	}
	f.flush()
	feeder.wait()
	if ferr := f.err(); ferr != nil {
		return fmt.Errorf("ssh %s: %w", c.host.Name, ferr)
	}
	var ee *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		if become && !f.isReady() && strings.Contains(f.held(), "a password is required") {
			return fmt.Errorf("ssh %s: become: sudo asks for a password and no become_password is configured (sudo -n: %s)", c.host.Name, strings.TrimSpace(f.held()))
		}
		if become && !f.isReady() {
			return fmt.Errorf("ssh %s: become: sudo failed with status %d: %s", c.host.Name, ee.ExitStatus(), strings.TrimSpace(f.held()))
		}
		return &transports.ExitError{Command: cmd.Command, Status: exitStatus(ee)}
	case errors.As(err, &missing), errors.Is(err, io.EOF):
		return fmt.Errorf("ssh %s: %w", c.host.Name, transports.ErrConnectionLost)
	default:
		return fmt.Errorf("ssh %s: run: %w (%w)", c.host.Name, err, transports.ErrConnectionLost)
	}
	if err := feeder.err(); err != nil {
		return fmt.Errorf("ssh %s: read stdin: %w", c.host.Name, err)
	}
	for _, g := range []*gate{stdout, stderr} {
		if err := g.failure(); err != nil {
			return fmt.Errorf("ssh %s: write command output: %w", c.host.Name, err)
		}
	}
	return nil
}

// commandLine builds what the login shell runs; m is the marker.
func commandLine(m, command string, become bool, pw secret.Value) string {
	inner := "exec /bin/sh -c " + Quote(command)
	if !become {
		return "echo " + m + " $$ >&2; " + inner
	}
	sudo := "sudo -n"
	if !pw.IsZero() {
		// -S reads the password from stdin, which Run writes only after
		// seeing this prompt; -p replaces the localised default prompt.
		sudo = "sudo -S -p " + Quote(m+"-password:")
	}
	return "echo " + m + " $$ >&2; exec " + sudo + " -- /bin/sh -c " + Quote("echo "+m+"-ready >&2; "+inner)
}

// exitStatus maps an exit by signal to 128+n, like a shell does.
func exitStatus(ee *ssh.ExitError) int {
	if sig := ee.Signal(); sig != "" && ee.ExitStatus() < 0 {
		if n, ok := signalNumbers[sig]; ok {
			return 128 + n
		}
	}
	return ee.ExitStatus()
}

var signalNumbers = map[string]int{"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "ABRT": 6, "FPE": 8, "KILL": 9, "SEGV": 11, "PIPE": 13, "ALRM": 14, "TERM": 15, "USR1": 10, "USR2": 12}

// kill stops a running command: the SSH signal reaches only the top
// process, so a second session kills its whole process group (under sudo
// for become), then the session is closed.
func (c *Conn) kill(sess *ssh.Session, f *stderrFilter, become bool, pw secret.Value) {
	sess.Signal(ssh.SIGKILL)
	// The group id comes on stderr, which the server may relay after
	// stdout: a caller cancelling on seeing output can be ahead of it.
	t := time.NewTimer(markerWait)
	select {
	case <-f.pidKnown:
	case <-t.C:
	}
	t.Stop()
	if pgid := f.pgid(); pgid > 1 {
		ctx, cancel := context.WithTimeout(context.Background(), killTimeout)
		defer cancel()
		// "kill -9 -N" is the spelling both dash and bash accept for a group.
		k := fmt.Sprintf("kill -9 -%d 2>/dev/null || kill -9 %d 2>/dev/null; true", pgid, pgid)
		var stdin io.Reader
		if become {
			if pw.IsZero() {
				k = "sudo -n -- /bin/sh -c " + Quote(k)
			} else {
				// kill does not read stdin, so the password line cannot
				// leak into anything if sudo does not ask for it.
				k = "sudo -S -p '' -- /bin/sh -c " + Quote(k)
				stdin = strings.NewReader(pw.Reveal() + "\n")
			}
		}
		c.quiet(ctx, k, stdin)
	}
	sess.Close()
}

// quiet runs a housekeeping command, ignoring its output.
func (c *Conn) quiet(ctx context.Context, command string, stdin io.Reader) error {
	s, err := c.session(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	s.Stdin = stdin
	if err := s.Start(command); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	return s.Wait()
}

func nonNil(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// stdinFeeder writes the become password, then the caller's stdin.
type stdinFeeder struct {
	done chan struct{} // closed when the copy ended
	w    io.WriteCloser
	src  io.Reader
	once sync.Once
	mu   sync.Mutex
	rerr error
}

func (s *stdinFeeder) password(pw secret.Value) error {
	_, err := io.WriteString(s.w, pw.Reveal()+"\n")
	return err
}

// start copies the caller's stdin in the background. The goroutine ends
// when the source does; as with os/exec, a source that never ends keeps it
// blocked in Read, but it writes nothing anywhere once the session closed.
func (s *stdinFeeder) start() {
	s.once.Do(func() {
		if s.src == nil {
			s.w.Close()
			close(s.done)
			return
		}
		go func() {
			_, err := io.Copy(s.w, s.src)
			var readErr error
			if err != nil && !errors.Is(err, io.EOF) {
				// Distinguish a failing source from a closed session.
				if _, ok := err.(interface{ Timeout() bool }); !ok {
					readErr = err
				}
			}
			s.mu.Lock()
			s.rerr = readErr
			s.mu.Unlock()
			s.w.Close()
			close(s.done)
		}()
	})
}

// stdinGrace is how long a finished command waits for its stdin copy: a
// command that exits without reading all its input must not hang Run on a
// source that never ends.
const stdinGrace = 2 * time.Second

// wait lets the copy finish after the command ended, for a bounded time.
func (s *stdinFeeder) wait() {
	// Never started (sudo failed before the command ran): nothing to wait for.
	s.once.Do(func() { s.w.Close(); close(s.done) })
	select {
	case <-s.done:
		return
	default:
	}
	s.w.Close()
	t := time.NewTimer(stdinGrace)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
	}
}

func (s *stdinFeeder) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rerr
}

// stderrFilter passes stderr through to out, except the marker lines, and
// recognises sudo's password prompt.
type stderrFilter struct {
	marker   string
	become   bool
	out      io.Writer
	onPrompt func(n int) error
	onReady  func()

	mu        sync.Mutex
	buf       bytes.Buffer // incomplete line, or sudo output before ready
	gotPid    int
	pidSeen   bool
	ready     bool
	prompts   int
	sudoLines []string
	ferr      error
	failed    chan struct{}
	pidKnown  chan struct{} // closed once the group id line arrived
}

func newStderrFilter(marker string, become bool, out io.Writer) *stderrFilter {
	return &stderrFilter{marker: marker, become: become, out: out, failed: make(chan struct{}), pidKnown: make(chan struct{})}
}

func (f *stderrFilter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pidSeen && (!f.become || f.ready) {
		return f.out.Write(p)
	}
	f.buf.Write(p)
	for f.ferr == nil {
		b := f.buf.Bytes()
		if f.pidSeen && f.become {
			if prompt := []byte(f.marker + "-password:"); bytes.Contains(b, prompt) {
				f.buf.Reset()
				f.buf.Write(bytes.Replace(b, prompt, nil, 1))
				f.prompts++
				if err := f.onPrompt(f.prompts); err != nil {
					f.ferr = err
					close(f.failed)
				}
				continue
			}
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		l := string(b[:i])
		rest := append([]byte(nil), b[i+1:]...)
		f.buf.Reset()
		f.buf.Write(rest)
		switch {
		case !f.pidSeen && strings.Contains(l, f.marker+" "):
			// A profile may have printed a partial line just before.
			noise, pid, _ := strings.Cut(l, f.marker+" ")
			if noise != "" {
				if _, err := f.out.Write([]byte(noise + "\n")); err != nil {
					return 0, err
				}
			}
			f.gotPid, _ = strconv.Atoi(pid)
			f.pidSeen = true
			close(f.pidKnown)
		case f.pidSeen && l == f.marker+"-ready":
			f.ready = true
			f.onReady()
			// Whatever sudo printed before is not the command's output.
			_, err := f.out.Write(f.buf.Bytes())
			f.buf.Reset()
			return len(p), err
		case f.pidSeen && f.become:
			// sudo's own messages: kept for the error report.
			f.sudoLines = append(f.sudoLines, l)
		default:
			// Output of the login shell before the marker (a noisy
			// profile): not ours to hide.
			if _, err := f.out.Write([]byte(l + "\n")); err != nil {
				return 0, err
			}
		}
		if f.pidSeen && !f.become {
			_, err := f.out.Write(f.buf.Bytes())
			f.buf.Reset()
			return len(p), err
		}
	}
	return len(p), nil
}

// flush passes on a last line without a newline once the command ended.
func (f *stderrFilter) flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.buf.Len() == 0 {
		return
	}
	if f.become && !f.ready {
		f.sudoLines = append(f.sudoLines, f.buf.String())
	} else {
		f.out.Write(f.buf.Bytes())
	}
	f.buf.Reset()
}

func (f *stderrFilter) pgid() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gotPid
}

func (f *stderrFilter) isReady() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready
}

// held is what sudo wrote before the command started.
func (f *stderrFilter) held() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.sudoLines, "\n")
}

func (f *stderrFilter) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ferr
}
