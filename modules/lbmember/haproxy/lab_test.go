package haproxy_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/osrun/osrun/modules/lbmember/haproxy"
	"github.com/osrun/osrun/modules/lbmember/lbtest"
	"github.com/osrun/osrun/modules/lbmember/member"
)

// lab is a real HAProxy on loopback in front of in-test web servers.
type lab struct {
	sock    string // unix stats socket
	tcp     string // TCP stats socket
	front   string // the frontend's address
	servers map[string]*webServer
	names   []string
	client  *http.Client

	mu    sync.Mutex
	holds map[string]chan struct{}
	next  int
}

// webServer is one front-end: /health answers per the down flag, /hold
// blocks until the test lets it go.
type webServer struct {
	srv     *httptest.Server
	down    atomic.Bool
	entered chan string
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startLab starts HAProxy with backend "web" of the named servers and
// waits until its health checks see them all up.
func startLab(t *testing.T, names ...string) *lab {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("haproxy is not installed; CI must install the Debian haproxy package")
		}
		t.Skip("SKIPPING REAL-HAPROXY TESTS: haproxy is not installed (apt-get install haproxy)")
	}
	// unix socket paths are limited to ~108 bytes; t.TempDir can be longer.
	dir, err := os.MkdirTemp("", "osrun-hx")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	l := &lab{
		sock:    filepath.Join(dir, "admin.sock"),
		servers: map[string]*webServer{},
		names:   names,
		client:  &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 20 * time.Second},
		holds:   map[string]chan struct{}{},
	}
	for _, n := range names {
		ws := &webServer{entered: make(chan string, 16)}
		ws.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/health":
				if ws.down.Load() {
					w.WriteHeader(http.StatusServiceUnavailable)
				}
			case "/hold":
				id := r.URL.Query().Get("id")
				l.mu.Lock()
				release := l.holds[id]
				l.mu.Unlock()
				select {
				case ws.entered <- id:
				default: // nobody waits for this one any more
				}
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}
		}))
		l.servers[n] = ws
		// Cleanups run last-in first-out: these run after HAProxy stopped
		// (Close waits for the requests it was carrying).
		t.Cleanup(ws.srv.Close)
	}
	// Other tests on this machine take ports too: a port picked here may be
	// gone when HAProxy binds it, so a failed start is retried, boundedly.
	for attempt := 1; ; attempt++ {
		out, ok := l.start(t, bin, dir)
		if ok {
			return l
		}
		if attempt == 3 || !strings.Contains(out, "cannot bind") {
			t.Fatalf("haproxy did not start:\n%s", out)
		}
		t.Logf("haproxy lost a port race, retrying:\n%s", out)
	}
}

// syncBuffer collects HAProxy's output; the test reads it while HAProxy writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// start runs HAProxy on fresh ports and waits until its checks see every
// server up. It returns false with HAProxy's output if HAProxy exited.
func (l *lab) start(t *testing.T, bin, dir string) (string, bool) {
	t.Helper()
	l.tcp = "127.0.0.1:" + strconv.Itoa(freePort(t))
	l.front = "127.0.0.1:" + strconv.Itoa(freePort(t))
	var cfg strings.Builder
	fmt.Fprintf(&cfg, `global
    stats socket %s mode 600 level admin
    stats socket ipv4@%s level admin
    stats timeout 10s
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
frontend fe
    bind %s
    default_backend web
backend web
    option httpchk GET /health
`, l.sock, l.tcp, l.front)
	for _, n := range l.names {
		// use-server lets a test open a session on a chosen member.
		fmt.Fprintf(&cfg, "    use-server %s if { req.hdr(x-member) -m str %s }\n", n, n)
	}
	for _, n := range l.names {
		fmt.Fprintf(&cfg, "    server %s %s check inter 100ms fall 2 rise 2\n", n, l.servers[n].srv.Listener.Addr())
	}
	cfgPath := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	cmd := exec.Command(bin, "-f", cfgPath, "-db")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start haproxy: %v", err)
	}
	// exited is closed, never sent on, so every reader sees the exit.
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}

	d := haproxy.New(haproxy.Config{Network: "unix", Address: l.sock, Backend: "web"})
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-exited:
			return out.String(), false
		default:
		}
		all, err := d.Members(t.Context())
		up := 0
		for _, m := range all {
			// "UP 1/2" is still rising; wait for the settled word.
			if m.InRotation() && m.Detail == "UP" {
				up++
			}
		}
		if err == nil && up == len(l.names) {
			break
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("haproxy not ready after 10s: %v %+v\n%s", err, all, out.String())
		}
		time.Sleep(20 * time.Millisecond) // HAProxy's startup has no event to wait on
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("haproxy output:\n%s", out.String())
		}
	})
	// Registered last, so it runs first: held requests end before HAProxy stops.
	t.Cleanup(l.releaseAll)
	return "", true
}

func (l *lab) releaseAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, ch := range l.holds {
		close(ch)
		delete(l.holds, id)
	}
}

// hold opens one session through HAProxy to the named server.
func (l *lab) hold(t *testing.T, name string) (release func()) {
	t.Helper()
	l.mu.Lock()
	l.next++
	id := strconv.Itoa(l.next)
	ch := make(chan struct{})
	l.holds[id] = ch
	l.mu.Unlock()
	req, err := http.NewRequest("GET", "http://"+l.front+"/hold?id="+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Member", name)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := l.client.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case got := <-l.servers[name].entered:
		if got != id {
			t.Fatalf("hold %s reached %s with id %s", id, name, got)
		}
	case <-done:
		t.Fatalf("the held request to %s ended before reaching it", name)
	case <-time.After(10 * time.Second):
		t.Fatalf("the held request never reached %s", name)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			if ch, ok := l.holds[id]; ok {
				close(ch)
				delete(l.holds, id)
			}
			l.mu.Unlock()
			<-done
		})
	}
}

func (l *lab) harness(d *haproxy.Driver) *lbtest.Harness {
	return &lbtest.Harness{
		Driver:     d,
		Members:    l.names,
		Hold:       l.hold,
		SetHealthy: func(t *testing.T, name string, ok bool) { l.servers[name].down.Store(!ok) },
	}
}

func TestRealHAProxyConforms(t *testing.T) {
	lbtest.Run(t, func(t *testing.T) *lbtest.Harness {
		l := startLab(t, "fe01", "fe02", "fe03")
		return l.harness(haproxy.New(haproxy.Config{Network: "unix", Address: l.sock, Backend: "web"}))
	})
}

func TestRealHAProxyConformsOverTCP(t *testing.T) {
	lbtest.Run(t, func(t *testing.T) *lbtest.Harness {
		l := startLab(t, "fe01", "fe02")
		return l.harness(haproxy.New(haproxy.Config{Network: "tcp", Address: l.tcp, Backend: "web"}))
	})
}

func TestRealHAProxyOverTCP(t *testing.T) {
	l := startLab(t, "fe01", "fe02")
	d := haproxy.New(haproxy.Config{Network: "tcp", Address: l.tcp, Backend: "web"})
	if err := d.SetState(t.Context(), "fe02", member.Drained); err != nil {
		t.Fatal(err)
	}
	st, err := d.Status(t.Context(), "fe02")
	if err != nil || st.State != member.Drained || st.Detail != "DRAIN" {
		t.Fatalf("Status = %+v, %v; want drained (DRAIN)", st, err)
	}
}

func TestRealHAProxyErrors(t *testing.T) {
	l := startLab(t, "fe01", "fe02")
	tests := []struct {
		name string
		cfg  haproxy.Config
		do   func(d *haproxy.Driver) error
		want string
	}{
		{"unknown backend", haproxy.Config{Network: "unix", Address: l.sock, Backend: "nope"},
			func(d *haproxy.Driver) error { _, err := d.Members(t.Context()); return err },
			"haproxy backend nope at " + l.sock + ": show servers state nope: no such backend"},
		{"unknown server", haproxy.Config{Network: "unix", Address: l.sock, Backend: "web"},
			func(d *haproxy.Driver) error { return d.SetState(t.Context(), "fe09", member.Drained) },
			"set server web/fe09 state drain: no such member"},
		{"injection", haproxy.Config{Network: "unix", Address: l.sock, Backend: "web"},
			func(d *haproxy.Driver) error { return d.SetState(t.Context(), "fe01 state maint;", member.Drained) },
			"is not a valid HAProxy backend or server name"},
		{"nobody listening", haproxy.Config{Network: "unix", Address: l.sock + ".gone", Backend: "web"},
			func(d *haproxy.Driver) error { _, err := d.Status(t.Context(), "fe01"); return err },
			"connect to the runtime API"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do(haproxy.New(tt.cfg))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

// "set weight B/S 0" (which 2.6.12 shows as UP, weight 0): the member is
// enabled but out of rotation, and enabling cannot bring it back.
func TestRealHAProxyWeightZero(t *testing.T) {
	l := startLab(t, "fe01", "fe02")
	d := haproxy.New(haproxy.Config{Network: "unix", Address: l.sock, Backend: "web"})
	conn, err := net.Dial("unix", l.sock)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "set weight web/fe01 0\n")
	reply := make([]byte, 512)
	n, _ := conn.Read(reply)
	conn.Close()
	if strings.TrimSpace(string(reply[:n])) != "" {
		t.Fatalf("set weight: %q", reply[:n])
	}
	st, err := d.Status(t.Context(), "fe01")
	if err != nil || st.State != member.Enabled || st.InRotation() || st.Detail != "UP (weight 0)" {
		t.Errorf("weight 0: %+v, %v; want enabled, not in rotation, UP (weight 0)", st, err)
	}
}
