package winrm

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/transports"
)

const (
	authBasic       = "basic"
	authNTLM        = "ntlm"
	authCertificate = "certificate"
	authKerberos    = "kerberos"

	defaultTimeout      = 60 * time.Second
	maxOperationTimeout = 20 * time.Second
	// maxCommandLine is cmd.exe's limit; WinRM refuses longer command
	// lines with "The filename or extension is too long".
	maxCommandLine = 8191
	// sendChunk is the stdin carried by one Send: base64 makes it 128 KiB,
	// inside the 150 KiB MaxEnvelopeSize of the oldest servers.
	sendChunk = 96 << 10
)

// Options tune a Dialer beyond what the inventory says.
type Options struct {
	// Warn receives warnings about weakened security (insecure = true,
	// plain HTTP). Nil logs them with slog.Default().
	Warn func(msg string)
	// Dial opens TCP connections; nil uses a net.Dialer with DialTimeout.
	Dial        func(network, addr string) (net.Conn, error)
	DialTimeout time.Duration // default 30 s
	// CleanupTimeout bounds how long a cancelled command waits for the
	// Signal and Delete that stop it on the host. Default 10 s.
	CleanupTimeout time.Duration
	// MaxCommandLine is the longest command line sent; longer scripts go
	// over stdin. Default 8191.
	MaxCommandLine int
}

// Dialer opens WinRM connections with fixed Options.
type Dialer struct {
	Options Options
}

// Dial implements the runner's per-transport dial function.
func (d *Dialer) Dial(ctx context.Context, h *inventory.Host) (transports.Conn, error) {
	c, err := Dial(ctx, h, d.Options)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Conn is a WinRM connection to one Windows host. Each Run and Upload uses
// its own remote shell, deleted afterwards, so nothing lingers on the host
// and a reboot between commands is harmless.
type Conn struct {
	name           string
	ws             *wsman
	conns          *tracker
	commandTimeout time.Duration
	cleanupTimeout time.Duration
	maxCommandLine int

	mu     sync.Mutex
	closed bool
}

var _ transports.Conn = (*Conn)(nil)

// Dial checks h's WinRM settings, then opens and closes a shell so that
// unreachable hosts and bad credentials fail here. Connection and
// authentication failures wrap transports.ErrUnreachable.
func Dial(ctx context.Context, h *inventory.Host, opts Options) (*Conn, error) {
	name := h.Name
	if name == "" {
		name = h.Address
	}
	ep, warnings, err := endpointFor(h, opts)
	if err != nil {
		return nil, fmt.Errorf("winrm %s: %w", name, err)
	}
	warn := opts.Warn
	if warn == nil {
		warn = func(msg string) { slog.Default().Warn(msg) }
	}
	for _, w := range warnings {
		warn(fmt.Sprintf("winrm %s: %s", name, w))
	}
	conns := newTracker(ep.dial)
	ep.dial = conns.Dial
	ws, err := newWSMan(ep)
	if err != nil {
		return nil, fmt.Errorf("winrm %s: %w", name, err)
	}
	c := &Conn{
		name:           name,
		ws:             ws,
		conns:          conns,
		commandTimeout: h.WinRM.CommandTimeout,
		cleanupTimeout: opts.CleanupTimeout,
		maxCommandLine: opts.MaxCommandLine,
	}
	if c.cleanupTimeout <= 0 {
		c.cleanupTimeout = 10 * time.Second
	}
	if c.maxCommandLine <= 0 {
		c.maxCommandLine = maxCommandLine
	}
	if err := c.probe(ctx, ep.auth); err != nil {
		conns.closeAll()
		return nil, fmt.Errorf("winrm %s: %w", name, err)
	}
	return c, nil
}

// probe opens and deletes a shell. The library cannot be interrupted, so a
// cancelled ctx returns at once and the probe finishes in the background.
func (c *Conn) probe(ctx context.Context, auth string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	res := make(chan error, 1)
	go func() {
		id, err := c.ws.createShell()
		if err == nil {
			err = c.ws.deleteShell(id)
		}
		res <- err
	}()
	select {
	case err := <-res:
		if err == nil {
			return nil
		}
		if errors.Is(err, errAuth) {
			return fmt.Errorf("%w: check the user, the password and that %s authentication is enabled on the host: %w", errAuth, auth, transports.ErrUnreachable)
		}
		return fmt.Errorf("open shell: %w: %w", err, transports.ErrUnreachable)
	case <-ctx.Done():
		return fmt.Errorf("open shell: %w", ctx.Err())
	}
}

// endpointFor turns inventory settings into an endpoint, refusing unsafe
// or unsupported combinations.
func endpointFor(h *inventory.Host, opts Options) (endpoint, []string, error) {
	s := h.WinRM
	var warnings []string
	ep := endpoint{
		host:     h.Address,
		https:    s.HTTPS == nil || *s.HTTPS,
		insecure: s.Insecure,
		auth:     strings.ToLower(s.Auth),
		user:     s.User,
		password: s.Password.Reveal(),
		port:     s.Port,
		timeout:  s.Timeout,
		dial:     opts.Dial,
	}
	if ep.host == "" {
		ep.host = h.Name
	}
	if ep.host == "" {
		return ep, nil, errors.New("no address")
	}
	if ep.auth == "" {
		ep.auth = authNTLM
	}
	if ep.port == 0 {
		ep.port = 5986
		if !ep.https {
			ep.port = 5985
		}
	}
	switch ep.auth {
	case authNTLM, authBasic:
		if ep.user == "" {
			return ep, nil, fmt.Errorf("%s authentication needs a user", ep.auth)
		}
	case authCertificate:
		if !ep.https {
			return ep, nil, errors.New("certificate authentication needs https")
		}
		if s.ClientCert == "" || s.ClientKey == "" {
			return ep, nil, errors.New("certificate authentication needs client_cert and client_key")
		}
		var err error
		if ep.certPEM, err = os.ReadFile(s.ClientCert); err != nil {
			return ep, nil, fmt.Errorf("read client certificate: %w", err)
		}
		if ep.keyPEM, err = os.ReadFile(s.ClientKey); err != nil {
			return ep, nil, fmt.Errorf("read client key: %w", err)
		}
	case authKerberos:
		return ep, nil, errors.New("kerberos authentication is not supported by osrun's winrm transport yet: use ntlm over https, or a client certificate")
	default:
		return ep, nil, fmt.Errorf("unknown auth %q: want ntlm, basic, certificate or kerberos", s.Auth)
	}
	if !ep.https {
		if ep.auth == authBasic {
			return ep, nil, errors.New("basic authentication over plain http would send the password in clear text: use https, or ntlm")
		}
		warnings = append(warnings, "plain http: scripts and their output cross the network unencrypted (the server must allow unencrypted traffic); prefer https")
	}
	if ep.https && ep.insecure {
		warnings = append(warnings, "insecure = true: the server certificate is not verified, so anyone on the network path can impersonate this host and capture its credentials")
	}
	if s.CAFile != "" {
		pemBytes, err := os.ReadFile(s.CAFile)
		if err != nil {
			return ep, nil, fmt.Errorf("read ca_file: %w", err)
		}
		if !x509.NewCertPool().AppendCertsFromPEM(pemBytes) {
			return ep, nil, fmt.Errorf("ca_file %s holds no PEM certificate", s.CAFile)
		}
		ep.caPEM = pemBytes
	}
	if ep.timeout <= 0 {
		ep.timeout = defaultTimeout
	}
	ep.operationTimeout = s.OperationTimeout
	if ep.operationTimeout <= 0 {
		// The server holds a Receive up to OperationTimeout; the HTTP
		// timeout must leave room for that plus the network.
		ep.operationTimeout = min(ep.timeout/3, maxOperationTimeout)
	}
	// Windows holds a silent Receive for the whole OperationTimeout; the
	// answer must then still beat the HTTP timeout (masterzen/winrm #147).
	if ep.operationTimeout > ep.timeout*3/4 {
		return ep, nil, fmt.Errorf("operation_timeout (%v) must be well below timeout (%v), at most three quarters of it: the server holds a silent request for the whole operation timeout", ep.operationTimeout, ep.timeout)
	}
	if ep.dial == nil {
		dt := opts.DialTimeout
		if dt <= 0 {
			dt = 30 * time.Second
		}
		ep.dial = (&net.Dialer{Timeout: dt, KeepAlive: 30 * time.Second}).Dial
	}
	return ep, warnings, nil
}

// Shell implements transports.Conn.
func (c *Conn) Shell() string { return "powershell" }

// Close implements transports.Conn. Shells live only as long as a command,
// so there is nothing to release on the host; Close drops the idle HTTP
// connections.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		c.conns.closeAll()
	}
	return nil
}

func (c *Conn) usable(ctx context.Context) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return errors.New("connection is closed")
	}
	return ctx.Err()
}

type runData struct{ Script string }

// Run implements transports.Conn. The script runs inside scripts/run.ps1,
// after its preamble, so it cannot start with a param() block. A writer
// that fails stops the command.
func (c *Conn) Run(ctx context.Context, cmd *transports.Cmd) error {
	if err := c.usable(ctx); err != nil {
		return fmt.Errorf("winrm %s: run: %w", c.name, err)
	}
	if cmd.Become {
		return fmt.Errorf("winrm %s: run: become is not supported over winrm: connect as a user with the rights the command needs", c.name)
	}
	script, err := render("run.ps1", runData{Script: cmd.Command})
	if err != nil {
		return fmt.Errorf("winrm %s: %w", c.name, err)
	}
	code, err := c.exec(ctx, script, cmd.Stdin, terminate, cmd.Stdout, cmd.Stderr)
	if err != nil {
		return fmt.Errorf("winrm %s: run: %w", c.name, err)
	}
	if code != 0 {
		return &transports.ExitError{Command: cmd.Command, Status: code}
	}
	return nil
}

// gate is a writer that can be shut: after a cancelled command returns,
// output still in flight must not reach the caller's writers.
type gate struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

func (g *gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return len(p), nil
	}
	return g.w.Write(p)
}

func (g *gate) shut() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

type receiveResult struct {
	code int
	err  error
}

// sendError is a failed Send: the command may wait for input forever.
type sendError struct{ err error }

func (e *sendError) Error() string { return "send stdin: " + e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// onCancel says how exec stops a command when ctx ends.
type onCancel int

const (
	// terminate signals the command and deletes its shell.
	terminate onCancel = iota
	// closeStdin ends the command's input early and lets it clean up
	// (scripts/upload.ps1 removes its temporary file), then deletes the
	// shell; it terminates the command if that takes too long.
	closeStdin
)

// exec runs a PowerShell script in a new shell and returns its exit code.
// An error means the exit code is unknown.
func (c *Conn) exec(ctx context.Context, script string, stdin io.Reader, mode onCancel, stdout, stderr io.Writer) (int, error) {
	if c.commandTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.commandTimeout,
			fmt.Errorf("command_timeout of %v exceeded", c.commandTimeout))
		defer cancel()
	}
	line := encodeCommand(script)
	if len(line) > c.maxCommandLine {
		boot, err := render("stdin.ps1", nil)
		if err != nil {
			return -1, err
		}
		line = encodeCommand(boot)
		first := strings.NewReader(base64Std(script) + "\r\n")
		if stdin == nil {
			stdin = first
		} else {
			stdin = io.MultiReader(first, stdin)
		}
	}
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	outGate, errGate := &gate{w: stdout}, &gate{w: stderr}
	errText := newCLIXMLWriter(errGate)

	shellID, err := c.ws.createShell()
	if err != nil {
		if isTransport(err) {
			// Nothing ran: the host is as unreachable as at Dial time.
			err = fmt.Errorf("%w: %w", err, transports.ErrUnreachable)
		}
		return -1, fmt.Errorf("create shell: %w", describe(err))
	}
	if err := ctx.Err(); err != nil {
		c.cleanup(func() { _ = c.ws.deleteShell(shellID) })
		return -1, err
	}
	cmdID, err := c.ws.command(shellID, line)
	if err != nil {
		c.cleanup(func() { _ = c.ws.deleteShell(shellID) })
		if isTransport(err) {
			// The server may have started the command before the
			// connection dropped.
			err = fmt.Errorf("%w: %w", transports.ErrConnectionLost, err)
		}
		return -1, fmt.Errorf("start command: %w", describe(err))
	}

	stop := make(chan struct{})
	fed := make(chan error, 1)
	go c.feed(shellID, cmdID, stdin, stop, fed)
	received := make(chan receiveResult, 1)
	go func() {
		for {
			select {
			case <-stop:
				received <- receiveResult{err: errors.New("stopped")}
				return
			default:
			}
			done, code, err := c.ws.receive(shellID, cmdID, outGate, errText)
			if err != nil || done {
				received <- receiveResult{code, err}
				return
			}
		}
	}()
	// Whatever happens, the feeder is told to stop. It is not waited for:
	// it may be blocked in the caller's reader (os/exec without WaitDelay
	// leaves it behind the same way).
	feedErr := error(nil)
	feedDone := false
	defer close(stop)

	for {
		select {
		case r := <-received:
			var we *writeError
			if errors.As(r.err, &we) {
				c.abort(shellID, cmdID)
				return -1, we
			}
			if r.err != nil {
				c.cleanup(func() { _ = c.ws.deleteShell(shellID) })
				return -1, fmt.Errorf("receive output: %w: %w", transports.ErrConnectionLost, describe(r.err))
			}
			_ = c.ws.deleteShell(shellID)
			if err := errText.Flush(); err != nil {
				return -1, fmt.Errorf("write stderr: %w", err)
			}
			if !feedDone {
				select {
				case feedErr = <-fed:
					feedDone = true
				default: // stdin still being read; the command is over anyway
				}
			}
			// The exit code is known; only a failure to read the caller's
			// stdin is worth reporting, and only if the script "succeeded"
			// on truncated input.
			var se *sendError
			if feedErr != nil && !errors.As(feedErr, &se) && r.code == 0 {
				return -1, feedErr
			}
			return r.code, nil
		case feedErr = <-fed:
			feedDone = true
			var se *sendError
			if !errors.As(feedErr, &se) {
				continue // end of input, or the caller's reader failed: let the command finish
			}
			outGate.shut()
			errGate.shut()
			c.abort(shellID, cmdID)
			return -1, fmt.Errorf("%w: %w", transports.ErrConnectionLost, describe(feedErr))
		case <-ctx.Done():
			outGate.shut()
			errGate.shut()
			if mode == closeStdin && c.cleanup(func() {
				_ = c.ws.send(shellID, cmdID, nil, true)
				<-received
				_ = c.ws.deleteShell(shellID)
			}) {
				return -1, ctxError(ctx)
			}
			c.abort(shellID, cmdID)
			return -1, ctxError(ctx)
		}
	}
}

// ctxError is ctx's error, with the reason when osrun set one (a command
// timeout rather than the caller's deadline).
func ctxError(ctx context.Context) error {
	err := ctx.Err()
	if cause := context.Cause(ctx); cause != nil && cause != err {
		return fmt.Errorf("%w: %v", err, cause)
	}
	return err
}

// abort terminates the command and deletes its shell.
func (c *Conn) abort(shellID, cmdID string) {
	c.cleanup(func() {
		_ = c.ws.signalTerminate(shellID, cmdID)
		_ = c.ws.deleteShell(shellID)
	})
}

// cleanup runs f, waiting at most cleanupTimeout: the library's HTTP calls
// cannot be interrupted, and a host that stopped answering must not hold
// the caller for a full HTTP timeout.
// It reports whether f finished.
func (c *Conn) cleanup(f func()) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	t := time.NewTimer(c.cleanupTimeout)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// feed copies r to the command's stdin, then closes it. A nil r closes
// stdin at once: PowerShell reading $input would otherwise wait forever.
func (c *Conn) feed(shellID, cmdID string, r io.Reader, stop <-chan struct{}, fed chan<- error) {
	if r == nil {
		if err := c.ws.send(shellID, cmdID, nil, true); err != nil {
			fed <- &sendError{err}
			return
		}
		fed <- nil
		return
	}
	buf := make([]byte, sendChunk)
	for {
		n, rerr := r.Read(buf)
		select {
		case <-stop:
			fed <- nil
			return
		default:
		}
		if n > 0 {
			if err := c.ws.send(shellID, cmdID, buf[:n], false); err != nil {
				fed <- &sendError{err}
				return
			}
		}
		if rerr != nil {
			// End of input either way; after a read error the script
			// misses the rest, which scripts/upload.ps1 detects.
			if err := c.ws.send(shellID, cmdID, nil, true); err != nil {
				fed <- &sendError{err}
				return
			}
			if rerr == io.EOF {
				fed <- nil
			} else {
				fed <- fmt.Errorf("read stdin: %w", rerr)
			}
			return
		}
	}
}

// describe turns the library's 401 into an actionable error.
func describe(err error) error {
	if errors.Is(err, errAuth) {
		return fmt.Errorf("%w: credentials rejected: %w", err, transports.ErrUnreachable)
	}
	return err
}
