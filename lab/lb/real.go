package lb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ErrNoHAProxy is returned by StartReal when the haproxy binary is not on
// PATH.
var ErrNoHAProxy = errors.New("haproxy is not installed (Debian and Ubuntu: apt-get install haproxy)")

// Real is a real HAProxy process configured like the simulation, for the
// lab's --lab-lb haproxy: same frontend and backend names, round-robin,
// the same checks, redispatch with one retry and an X-Served-By header.
// It has no event hook; poll its runtime API (traffic.Monitor.Sample) to
// follow rotation.
type Real struct {
	cfg    Config
	dir    string
	sock   string
	api    string
	front  string
	cmd    *exec.Cmd
	exited chan struct{}
	out    *syncBuffer
	once   sync.Once
}

// syncBuffer collects HAProxy's output while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// StartReal writes a configuration for cfg and starts haproxy, returning
// once its runtime API answers; ctx bounds only the start. OnEvent is not
// supported. HAProxy checks one path per backend: the first member's
// CheckPath is used for all (the lab's application servers answer both
// pings).
func StartReal(ctx context.Context, cfg Config) (*Real, error) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		return nil, ErrNoHAProxy
	}
	if cfg.OnEvent != nil {
		return nil, errors.New("real haproxy: OnEvent is not supported; poll the runtime API instead")
	}
	cfg = withDefaults(cfg)
	// A unix socket path is limited to about 108 bytes: use a short
	// directory, not the caller's possibly deep temporary one.
	dir, err := os.MkdirTemp("", "osrun-haproxy")
	if err != nil {
		return nil, fmt.Errorf("real haproxy: %w", err)
	}
	r := &Real{cfg: cfg, dir: dir, sock: cfg.SocketPath, exited: make(chan struct{}), out: &syncBuffer{}}
	if r.sock == "" {
		r.sock = filepath.Join(dir, "admin.sock")
	}
	if r.api, err = freeAddr(); err == nil {
		r.front, err = freeAddr()
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("real haproxy: %w", err)
	}
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(r.config()), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("real haproxy: %w", err)
	}
	r.cmd = exec.Command(bin, "-f", path, "-db")
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	if err := r.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("real haproxy: %w", err)
	}
	go func() {
		r.cmd.Wait()
		close(r.exited)
	}()
	if err := r.waitReady(ctx); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Frontend == "" {
		cfg.Frontend = "fe"
	}
	if cfg.Backend == "" {
		cfg.Backend = "web"
	}
	if cfg.CheckInterval <= 0 {
		cfg.CheckInterval = 100 * time.Millisecond
	}
	if cfg.CheckTimeout <= 0 {
		cfg.CheckTimeout = 2 * time.Second
	}
	if cfg.Rise <= 0 {
		cfg.Rise = 2
	}
	if cfg.Fall <= 0 {
		cfg.Fall = 3
	}
	if cfg.ServerTimeout <= 0 {
		cfg.ServerTimeout = 30 * time.Second
	}
	return cfg
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%dms", max(1, d.Milliseconds())) }

func (r *Real) config() string {
	cfg := r.cfg
	ping := defaultPing
	if len(cfg.Members) > 0 && cfg.Members[0].CheckPath != "" {
		ping = cfg.Members[0].CheckPath
	}
	var b strings.Builder
	fmt.Fprintf(&b, `global
    stats socket %s mode 600 level admin
    stats socket ipv4@%s level admin
    stats timeout 10s
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server %s
    timeout check %s
frontend %s
    bind %s
    default_backend %s
backend %s
    balance roundrobin
    option httpchk GET %s
    http-response set-header %s %%s
`, r.sock, r.api, ms(cfg.ServerTimeout), ms(cfg.CheckTimeout), cfg.Frontend, r.front, cfg.Backend, cfg.Backend, ping, ServedByHeader)
	if !cfg.NoRedispatch {
		b.WriteString("    option redispatch\n    retries 1\n")
	}
	for _, m := range cfg.Members {
		fmt.Fprintf(&b, "    server %s %s check inter %s rise %d fall %d\n", m.Name, m.Addr, ms(cfg.CheckInterval), cfg.Rise, cfg.Fall)
	}
	return b.String()
}

// waitReady polls until the runtime API answers: HAProxy's start has no
// event to wait on.
func (r *Real) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if c, err := net.Dial("unix", r.sock); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-r.exited:
			return fmt.Errorf("real haproxy exited: %s", strings.TrimSpace(r.out.String()))
		case <-ctx.Done():
			return fmt.Errorf("real haproxy: runtime API not answering: %w; output: %s", ctx.Err(), strings.TrimSpace(r.out.String()))
		case <-t.C:
		}
	}
}

// URL is the frontend's base URL.
func (r *Real) URL() string { return "http://" + r.front }

// Addr is the frontend's host:port.
func (r *Real) Addr() string { return r.front }

// APIAddr is the TCP runtime API's host:port.
func (r *Real) APIAddr() string { return r.api }

// SocketPath is the runtime API's unix socket.
func (r *Real) SocketPath() string { return r.sock }

// Backend names the backend.
func (r *Real) Backend() string { return r.cfg.Backend }

// Output is what HAProxy printed so far (warnings, alerts).
func (r *Real) Output() string { return r.out.String() }

// Close stops HAProxy and removes its files.
func (r *Real) Close() error {
	r.once.Do(func() {
		r.cmd.Process.Kill()
		<-r.exited
		os.RemoveAll(r.dir)
	})
	return nil
}
