package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/transports"
)

// Defaults used when the inventory leaves a setting at its zero value.
const (
	DefaultPort        = 22
	DefaultDialTimeout = 30 * time.Second
	DefaultKeepalive   = 15 * time.Second
)

// Options are the settings that do not come from the inventory.
type Options struct {
	// Warn receives warnings the operator must see on every run (host key
	// checking off, a host key recorded by accept-new). Nil writes them to
	// standard error.
	Warn func(msg string)
	// KnownHosts is the known_hosts file used when a host names none.
	// Empty means ~/.ssh/known_hosts.
	KnownHosts string
	// DisableSFTP makes uploads stream into cat even when the server
	// offers SFTP.
	DisableSFTP bool
}

func (o Options) warn(msg string) {
	if o.Warn != nil {
		o.Warn(msg)
		return
	}
	fmt.Fprintln(os.Stderr, "warning: "+msg)
}

func (o Options) knownHosts(h []string) []string {
	if len(h) > 0 {
		return h
	}
	if o.KnownHosts != "" {
		return []string{o.KnownHosts}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return nil
	}
	return []string{filepath.Join(home, ".ssh", "known_hosts")}
}

// Dialer opens SSH connections for the runner.
type Dialer struct {
	Options Options
}

// Dial implements the runner's dialer interface.
func (d Dialer) Dial(ctx context.Context, h *inventory.Host) (transports.Conn, error) {
	c, err := Dial(ctx, h, d.Options)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Dial connects to h, through its jump hosts if any, and authenticates.
// Every failure wraps transports.ErrUnreachable.
func Dial(ctx context.Context, h *inventory.Host, opts Options) (*Conn, error) {
	c := &Conn{host: h, opts: opts}
	if err := c.dial(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// unreachableError is a dial failure: its message is the whole story, and
// it matches both transports.ErrUnreachable and its cause.
type unreachableError struct {
	msg   string
	cause error
}

func (e *unreachableError) Error() string { return e.msg }
func (e *unreachableError) Unwrap() []error {
	if e.cause == nil {
		return []error{transports.ErrUnreachable}
	}
	return []error{transports.ErrUnreachable, e.cause}
}

// hop is one SSH server on the way to the host, the host itself last.
type hop struct {
	label  string // "fe03 (10.0.0.3:22)" or "fe03 via jump host 1 10.0.0.1:22"
	addr   string
	user   string
	auth   authConfig
	policy *hostKeyPolicy
}

type authConfig struct {
	keyFile    string
	passphrase secret.Value
	password   secret.Value
	useAgent   *bool
}

func (c *Conn) hops() ([]hop, error) {
	h, s := c.host, c.host.SSH
	port := s.Port
	if port == 0 {
		port = DefaultPort
	}
	target := hop{
		addr: net.JoinHostPort(h.Address, strconv.Itoa(port)),
		user: s.User,
		auth: authConfig{keyFile: s.PrivateKey, passphrase: s.Passphrase, password: s.Password, useAgent: s.UseAgent},
	}
	target.label = fmt.Sprintf("%s (%s)", h.Name, target.addr)
	if target.user == "" {
		u, err := user.Current()
		if err != nil {
			return nil, &unreachableError{msg: fmt.Sprintf("ssh %s: no user configured and the local user is unknown: %v", target.label, err), cause: err}
		}
		target.user = u.Username
	}
	files := c.opts.knownHosts(s.KnownHosts)
	var hops []hop
	for i, j := range s.Jump {
		jp := j.Port
		if jp == 0 {
			jp = DefaultPort
		}
		x := hop{addr: net.JoinHostPort(j.Address, strconv.Itoa(jp)), user: j.User, auth: target.auth}
		x.label = fmt.Sprintf("%s via jump host %d %s", h.Name, i+1, x.addr)
		if x.user == "" {
			x.user = target.user
		}
		// A jump host with its own credentials uses only those.
		if j.PrivateKey != "" || !j.Password.IsZero() {
			x.auth = authConfig{keyFile: j.PrivateKey, passphrase: j.Passphrase, password: j.Password, useAgent: s.UseAgent}
		}
		mode := j.HostKeyChecking
		if mode == "" {
			mode = s.HostKeyChecking
		}
		p, err := newHostKeyPolicy(mode, j.HostKey, files, c.opts.warn, x.label)
		if err != nil {
			return nil, &unreachableError{msg: fmt.Sprintf("ssh %s: %v", x.label, err), cause: err}
		}
		x.policy = p
		hops = append(hops, x)
	}
	p, err := newHostKeyPolicy(s.HostKeyChecking, s.HostKey, files, c.opts.warn, target.label)
	if err != nil {
		return nil, &unreachableError{msg: fmt.Sprintf("ssh %s: %v", target.label, err), cause: err}
	}
	target.policy = p
	return append(hops, target), nil
}

// dial opens the connection chain and installs it in c.
func (c *Conn) dial(ctx context.Context) error {
	hops, err := c.hops()
	if err != nil {
		return err
	}
	timeout := c.host.SSH.DialTimeout
	if timeout <= 0 {
		timeout = DefaultDialTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var clients []*ssh.Client
	fail := func(err error) error {
		for i := len(clients) - 1; i >= 0; i-- {
			clients[i].Close()
		}
		return err
	}
	for i, hp := range hops {
		var nc net.Conn
		if i == 0 {
			var d net.Dialer
			nc, err = d.DialContext(ctx, "tcp", hp.addr)
		} else {
			nc, err = clients[i-1].DialContext(ctx, "tcp", hp.addr)
		}
		if err != nil {
			return fail(&unreachableError{msg: fmt.Sprintf("ssh %s: connect: %v", hp.label, dialCause(ctx, err, timeout)), cause: err})
		}
		cl, err := handshake(ctx, nc, hp, timeout)
		if err != nil {
			return fail(err)
		}
		clients = append(clients, cl)
	}
	c.install(clients)
	return nil
}

func dialCause(ctx context.Context, err error, timeout time.Duration) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no answer within the dial timeout (%v)", timeout)
	}
	return err
}

// handshake runs the SSH handshake on nc. Cancellation closes nc from
// context.AfterFunc, which makes NewClientConn return; nothing is left
// running that could report an error after we return.
func handshake(ctx context.Context, nc net.Conn, hp hop, timeout time.Duration) (*ssh.Client, error) {
	auth, tried, done, err := hp.auth.methods()
	if err != nil {
		nc.Close()
		return nil, &unreachableError{msg: fmt.Sprintf("ssh %s: %v", hp.label, err), cause: err}
	}
	defer done()
	var keyErr error
	cfg := &ssh.ClientConfig{
		User: hp.user,
		Auth: auth,
		HostKeyCallback: func(addr string, remote net.Addr, key ssh.PublicKey) error {
			keyErr = hp.policy.check(addr, remote, key)
			return keyErr
		},
		HostKeyAlgorithms: hp.policy.algorithms(hp.addr),
		Timeout:           timeout,
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	sc, chans, reqs, err := ssh.NewClientConn(nc, hp.addr, cfg)
	if !stop() {
		if err == nil {
			sc.Close()
		}
		nc.Close()
		return nil, &unreachableError{msg: fmt.Sprintf("ssh %s: handshake: %v", hp.label, dialCause(ctx, ctx.Err(), timeout)), cause: ctx.Err()}
	}
	if err != nil {
		nc.Close()
		switch {
		case keyErr != nil:
			return nil, &unreachableError{msg: fmt.Sprintf("ssh %s: %v", hp.label, keyErr), cause: keyErr}
		case strings.Contains(err.Error(), "unable to authenticate"):
			return nil, &unreachableError{msg: fmt.Sprintf("ssh %s: authentication refused for user %s (tried: %s)", hp.label, hp.user, strings.Join(tried, ", ")), cause: err}
		default:
			return nil, &unreachableError{msg: fmt.Sprintf("ssh %s: handshake: %v", hp.label, err), cause: err}
		}
	}
	return ssh.NewClient(sc, chans, reqs), nil
}

// methods builds the auth methods in order of preference: key file, agent,
// password. done releases the agent connection once the handshake is over.
func (a authConfig) methods() (methods []ssh.AuthMethod, tried []string, done func(), err error) {
	done = func() {}
	var signers []ssh.Signer
	if a.keyFile != "" {
		s, err := loadKey(a.keyFile, a.passphrase)
		if err != nil {
			return nil, nil, done, err
		}
		signers = append(signers, s)
		tried = append(tried, "publickey "+a.keyFile)
	} else {
		// Like ssh(1): the usual identity files, when present and usable.
		for _, f := range defaultIdentities() {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			s, err := ssh.ParsePrivateKey(b)
			if err != nil {
				continue // passphrase-protected or not a key: not ours to guess
			}
			signers = append(signers, s)
			tried = append(tried, "publickey "+f)
		}
	}
	var agentClient agent.ExtendedAgent
	sock := os.Getenv("SSH_AUTH_SOCK")
	useAgent := sock != ""
	if a.useAgent != nil {
		useAgent = *a.useAgent
		if useAgent && sock == "" {
			return nil, nil, done, errors.New("use_agent is set but SSH_AUTH_SOCK is not")
		}
	}
	if useAgent {
		ac, err := net.Dial("unix", sock)
		switch {
		case err == nil:
			done = func() { ac.Close() }
			agentClient = agent.NewClient(ac)
			tried = append(tried, "publickey from ssh-agent")
		case a.useAgent != nil:
			return nil, nil, done, fmt.Errorf("connect to ssh-agent at SSH_AUTH_SOCK: %w", err)
		default:
			// A stale SSH_AUTH_SOCK, and the agent was not asked for:
			// carry on with the other methods, as ssh(1) does.
		}
	}
	if len(signers) > 0 || agentClient != nil {
		// One publickey method: the library tries each method name once.
		methods = append(methods, ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
			all := signers
			if agentClient != nil {
				as, err := agentClient.Signers()
				if err == nil {
					all = append(all[:len(all):len(all)], as...)
				}
			}
			return all, nil
		}))
	}
	if !a.password.IsZero() {
		pw := a.password
		methods = append(methods,
			ssh.PasswordCallback(func() (string, error) { return pw.Reveal(), nil }),
			// Servers that take passwords through PAM ask with
			// keyboard-interactive; answer a single hidden question only.
			ssh.KeyboardInteractive(func(_, _ string, questions []string, echos []bool) ([]string, error) {
				if len(questions) == 0 {
					return nil, nil
				}
				if len(questions) != 1 || echos[0] {
					return nil, errors.New("unexpected keyboard-interactive questions")
				}
				return []string{pw.Reveal()}, nil
			}))
		tried = append(tried, "password")
	}
	if len(methods) == 0 {
		return nil, nil, done, errors.New("no authentication configured: set private_key or password, run an ssh-agent (SSH_AUTH_SOCK), or provide ~/.ssh/id_ed25519")
	}
	return methods, tried, done, nil
}

// defaultIdentities are the key files tried when none is configured.
func defaultIdentities() []string {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil
	}
	var files []string
	for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		files = append(files, filepath.Join(home, ".ssh", n))
	}
	return files
}

// loadKey reads an OpenSSH or PEM private key, decrypting it if needed.
func loadKey(path string, passphrase secret.Value) (ssh.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	s, err := ssh.ParsePrivateKey(b)
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		return s, nil
	case errors.As(err, &missing):
		if passphrase.IsZero() {
			return nil, fmt.Errorf("private key %s is passphrase-protected and no passphrase is configured", path)
		}
		s, err = ssh.ParsePrivateKeyWithPassphrase(b, []byte(passphrase.Reveal()))
		if err != nil {
			return nil, fmt.Errorf("decrypt private key %s with passphrase %s: %w", path, passphrase, err)
		}
		return s, nil
	default:
		return nil, fmt.Errorf("parse private key %s: %w", path, err)
	}
}
