package farm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/osrun/osrun/lab/appserver"
	"github.com/osrun/osrun/lab/lb"
	"github.com/osrun/osrun/lab/traffic"
	"github.com/osrun/osrun/modules/lbmember/haproxy"
)

// balancer is what the farm needs of its load balancer: the simulated one
// (lab/lb) or a real HAProxy.
type balancer interface {
	// URL is where the traffic goes.
	URL() string
	// APIAddr is the runtime API's host:port; Backend the pool's name.
	APIAddr() string
	Backend() string
	// member reads one member's status word and rotation.
	member(ctx context.Context, name string) (detail string, inRotation bool)
	Close() error
}

// simLB adapts lab/lb.
type simLB struct{ *lb.LB }

func (s simLB) member(_ context.Context, name string) (string, bool) {
	m, ok := s.Member(name)
	if !ok {
		return "unknown", false
	}
	return m.Detail, m.InRotation()
}

// realHAProxy is an haproxy process configured like lab/lb: round-robin,
// HTTP checks on Service Center's ping, one redispatched retry, the runtime
// API on a TCP stats socket at level admin. The monitor learns its
// rotation by polling that API through osrun's own driver.
type realHAProxy struct {
	url, api string
	drv      *haproxy.Driver
	cmd      *exec.Cmd
	exited   chan struct{}
	stop     context.CancelFunc
	sampled  chan struct{}
}

const haproxyBackend = "outsystems"

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (f *Farm) startHAProxy() (*realHAProxy, error) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		return nil, fmt.Errorf("the real HAProxy: %w (install haproxy, or use the simulated balancer)", err)
	}
	web, err := freePort()
	if err != nil {
		return nil, err
	}
	api, err := freePort()
	if err != nil {
		return nil, err
	}
	ms := f.cfg.CheckInterval.Milliseconds()
	var b strings.Builder
	fmt.Fprintf(&b, `# The lab farm's HAProxy, written for one run.
global
  stats socket ipv4@127.0.0.1:%d level admin
  stats timeout 1m

defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 10s
  retries 1
  option redispatch

frontend fe
  bind 127.0.0.1:%d
  default_backend %s

backend %s
  balance roundrobin
  # One ping for the whole pool: HAProxy checks a backend with one request.
  option httpchk GET %s
  http-response set-header %s %%s
`, api, web, haproxyBackend, haproxyBackend, appserver.PingDotNet, lb.ServedByHeader)
	for _, fe := range f.fes {
		fmt.Fprintf(&b, "  server %s %s check inter %dms rise 2 fall 2\n", fe.Name, fe.App.Addr(), ms)
	}
	cfgPath := filepath.Join(f.dir, "haproxy.cfg")
	if err := os.WriteFile(cfgPath, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(f.dir, "haproxy.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "-db", "-f", cfgPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Never outlive the lab, even when a test binary is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start haproxy: %w", err)
	}
	h := &realHAProxy{
		url:    fmt.Sprintf("http://127.0.0.1:%d", web),
		api:    fmt.Sprintf("127.0.0.1:%d", api),
		cmd:    cmd,
		exited: make(chan struct{}),
	}
	h.drv = haproxy.New(haproxy.Config{Network: "tcp", Address: h.api, Backend: haproxyBackend, Timeout: 2 * time.Second})
	go func() {
		cmd.Wait()
		close(h.exited)
	}()
	if err := h.ready(); err != nil {
		h.kill()
		log, _ := os.ReadFile(filepath.Join(f.dir, "haproxy.log"))
		return nil, fmt.Errorf("haproxy: %w\n%s", err, log)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.stop, h.sampled = cancel, make(chan struct{})
	go func() {
		defer close(h.sampled)
		// A monitor that stopped seeing rotation cannot vouch for the
		// run: the verdict fails.
		if err := f.mon.Sample(ctx, 20*time.Millisecond, h.rotation); err != nil && ctx.Err() == nil {
			f.problem("the HAProxy monitor stopped: %v", err)
		}
	}()
	return h, nil
}

// ready waits, boundedly, until the runtime API answers.
func (h *realHAProxy) ready() error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := h.drv.Members(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-h.exited:
			return errors.New("exited at start")
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("runtime API not answering: %w", err)
		}
	}
}

func (h *realHAProxy) rotation(ctx context.Context) ([]traffic.InRotation, error) {
	ms, err := h.drv.Members(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]traffic.InRotation, len(ms))
	for i, m := range ms {
		out[i] = traffic.InRotation{Member: m.Name, In: m.InRotation()}
	}
	return out, nil
}

func (h *realHAProxy) URL() string     { return h.url }
func (h *realHAProxy) APIAddr() string { return h.api }
func (h *realHAProxy) Backend() string { return haproxyBackend }

func (h *realHAProxy) member(ctx context.Context, name string) (string, bool) {
	s, err := h.drv.Status(ctx, name)
	if err != nil {
		return "unknown: " + err.Error(), false
	}
	return s.Detail, s.InRotation()
}

func (h *realHAProxy) kill() {
	h.cmd.Process.Kill()
	<-h.exited
}

// Close stops the sampling, then HAProxy.
func (h *realHAProxy) Close() error {
	h.stop()
	<-h.sampled
	h.cmd.Process.Signal(os.Interrupt)
	select {
	case <-h.exited:
	case <-time.After(5 * time.Second):
		h.kill()
	}
	return nil
}
