package lb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// Admin is a member's administrative state, as "set server B/S state" sets it.
type Admin int

// The admin states, as "set server B/S state" names them.
const (
	// Ready takes new requests while the checks pass.
	Ready Admin = iota
	// Drain takes none; requests in flight finish; checks go on.
	Drain
	// Maint takes none and stops the checks.
	Maint
)

func (a Admin) String() string {
	switch a {
	case Ready:
		return "ready"
	case Drain:
		return "drain"
	case Maint:
		return "maint"
	}
	return fmt.Sprintf("admin(%d)", int(a))
}

// State is what decides whether a member takes new requests.
type State struct {
	Admin Admin
	// Up is the operational state from the balancer's own health checks.
	Up bool
}

// InRotation reports whether the member takes new requests.
func (s State) InRotation() bool { return s.Admin == Ready && s.Up }

func (s State) String() string {
	if s.Up {
		return s.Admin.String() + "/up"
	}
	return s.Admin.String() + "/down"
}

// Event is one change of a member's State.
type Event struct {
	Time     time.Time
	Member   string
	From, To State
}

func (e Event) String() string {
	return fmt.Sprintf("%s %s: %s -> %s", e.Time.Format("15:04:05.000"), e.Member, e.From, e.To)
}

// MemberConfig is one server line of the backend.
type MemberConfig struct {
	Name string
	// Addr is the member's host:port.
	Addr string
	// CheckPath is the health check's path; the .NET ping when empty.
	CheckPath string
}

// Config configures a balancer. Zero values take the documented defaults.
type Config struct {
	// Frontend and Backend name the proxies in the runtime API; "fe" and
	// "web" when empty.
	Frontend, Backend string
	Members           []MemberConfig
	// CheckInterval is HAProxy's "inter": 100ms when zero.
	CheckInterval time.Duration
	// CheckTimeout bounds one check; 2s when zero. (HAProxy's default is
	// the interval, but the lab runs on busy machines where a healthy
	// loopback server can take longer than a short interval to answer.)
	CheckTimeout time.Duration
	// Rise and Fall are HAProxy's; 2 and 3 (its defaults) when zero.
	Rise, Fall int
	// NoRedispatch turns off the retry of refused connections on another
	// member.
	NoRedispatch bool
	// ServerTimeout bounds a member's answer ("timeout server"); 30s when zero.
	ServerTimeout time.Duration
	// SocketPath, when set, also serves the runtime API on this unix socket.
	SocketPath string
	// OnEvent, when set, is called for every change of a member's State, in
	// order, with the balancer's lock held: it must be quick and must not
	// call back into the balancer.
	OnEvent func(Event)
}

const defaultPing = "/ServiceCenter/_ping.aspx"

// LB is a running balancer.
type LB struct {
	cfg       Config
	start     time.Time
	http      *http.Server
	httpLn    net.Listener
	apiLns    []net.Listener
	transport *http.Transport
	checker   *http.Client
	stop      chan struct{}
	wg        sync.WaitGroup

	mu      sync.Mutex
	members []*member
	byName  map[string]*member
	next    int // round-robin position
	fe      counters
	be      counters
	closed  bool
}

// counters are the "show stat" numbers kept for a frontend, backend or server.
type counters struct {
	scur, smax, stot, lbtot int64
	bin, bout               int64
	econ, eresp, wretr      int64
	wredis, cliAbrt         int64
	srvAbrt                 int64
	hrsp                    [6]int64 // 1xx..5xx, other
}

func (c *counters) response(status int) {
	if status >= 100 && status < 600 {
		c.hrsp[status/100-1]++
	} else {
		c.hrsp[5]++
	}
}

// New starts a balancer: the proxy and the runtime API on free loopback
// ports, and one health checker per member.
func New(cfg Config) (*LB, error) {
	cfg = withDefaults(cfg)
	l := &LB{
		cfg:    cfg,
		start:  time.Now(),
		stop:   make(chan struct{}),
		byName: map[string]*member{},
		transport: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: time.Second}).DialContext,
			MaxIdleConnsPerHost:   32,
			IdleConnTimeout:       30 * time.Second,
			ResponseHeaderTimeout: cfg.ServerTimeout,
			DisableCompression:    true,
		},
	}
	l.checker = &http.Client{
		Timeout: cfg.CheckTimeout,
		// HAProxy opens a connection per check; keeping one open per
		// member is cheaper for a lab of hundreds of front-ends and
		// changes no verdict: a stopped server closes it and refuses the
		// next, a 503 is a 503 on any connection.
		Transport:     &http.Transport{MaxIdleConnsPerHost: 1, DialContext: (&net.Dialer{Timeout: cfg.CheckTimeout}).DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for i, mc := range cfg.Members {
		if err := validName(mc.Name); err != nil {
			return nil, fmt.Errorf("load balancer: member %d: %w", i+1, err)
		}
		if _, dup := l.byName[mc.Name]; dup {
			return nil, fmt.Errorf("load balancer: member %s listed twice", mc.Name)
		}
		if mc.CheckPath == "" {
			mc.CheckPath = defaultPing
		}
		m := &member{cfg: mc, id: i + 1, lastChange: l.start, sessions: map[*session]struct{}{}}
		// HAProxy starts a server running with the lowest "up" health,
		// shown as "UP 1/3" until its first check passes.
		m.health, m.up = cfg.Rise, true
		l.members = append(l.members, m)
		l.byName[mc.Name] = m
	}
	if err := validName(cfg.Backend); err != nil {
		return nil, fmt.Errorf("load balancer: backend: %w", err)
	}
	var err error
	if l.httpLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("load balancer: %w", err)
	}
	api, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		l.httpLn.Close()
		return nil, fmt.Errorf("load balancer: runtime API: %w", err)
	}
	l.apiLns = append(l.apiLns, api)
	if cfg.SocketPath != "" {
		os.Remove(cfg.SocketPath) // a stale socket from an earlier run
		sock, err := net.Listen("unix", cfg.SocketPath)
		if err != nil {
			l.httpLn.Close()
			api.Close()
			return nil, fmt.Errorf("load balancer: runtime API: %w", err)
		}
		l.apiLns = append(l.apiLns, sock)
	}
	l.http = &http.Server{Handler: l, ReadHeaderTimeout: 10 * time.Second}
	l.wg.Go(func() { l.http.Serve(l.httpLn) })
	for _, ln := range l.apiLns {
		l.wg.Go(func() { l.serveAPI(ln) })
	}
	for _, m := range l.members {
		l.wg.Go(func() { l.checkLoop(m) })
	}
	return l, nil
}

func validName(s string) error {
	if s == "" {
		return errors.New("empty name")
	}
	for _, r := range s {
		if r <= ' ' || r == ';' || r == '/' || r == ',' || r == '\\' || r == '#' {
			return fmt.Errorf("%q: names cannot contain spaces, ';', '/', ',', '#' or '\\'", s)
		}
	}
	return nil
}

// URL is the proxy's base URL.
func (l *LB) URL() string { return "http://" + l.httpLn.Addr().String() }

// Addr is the proxy's host:port.
func (l *LB) Addr() string { return l.httpLn.Addr().String() }

// APIAddr is the host:port of the runtime API over TCP.
func (l *LB) APIAddr() string { return l.apiLns[0].Addr().String() }

// SocketPath is the runtime API's unix socket, or "".
func (l *LB) SocketPath() string { return l.cfg.SocketPath }

// Backend names the backend the members belong to.
func (l *LB) Backend() string { return l.cfg.Backend }

// Close stops the proxy (cutting requests in flight), the runtime API and
// the health checks, and waits for them.
func (l *LB) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.stop)
	err := l.http.Close()
	for _, ln := range l.apiLns {
		ln.Close()
	}
	l.wg.Wait()
	l.transport.CloseIdleConnections()
	l.checker.CloseIdleConnections()
	if l.cfg.SocketPath != "" {
		os.Remove(l.cfg.SocketPath)
	}
	return err
}

// Status is a snapshot of one member.
type Status struct {
	Name string
	State
	// Sessions counts requests in flight on the member (HAProxy's scur).
	Sessions int
	// Served counts the requests the balancer sent to the member.
	Served int64
	// Detail is HAProxy's status word: "UP", "UP 1/3", "DRAIN", "MAINT"...
	Detail string
}

// Members returns every member in configuration order.
func (l *LB) Members() []Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Status, 0, len(l.members))
	for _, m := range l.members {
		out = append(out, m.statusLocked(l.cfg))
	}
	return out
}

// Member returns one member.
func (l *LB) Member(name string) (Status, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, ok := l.byName[name]
	if !ok {
		return Status{}, false
	}
	return m.statusLocked(l.cfg), true
}

// ErrNoSuchMember is returned for unknown member names.
var ErrNoSuchMember = errors.New("no such member")

// SetAdmin sets a member's admin state, as "set server B/S state" does.
func (l *LB) SetAdmin(name string, a Admin) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, ok := l.byName[name]
	if !ok {
		return fmt.Errorf("load balancer: %s: %w", name, ErrNoSuchMember)
	}
	l.setAdminLocked(m, a)
	return nil
}

// KillSessions cuts every request in flight on the member, as
// "shutdown sessions server B/S" does.
func (l *LB) KillSessions(name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, ok := l.byName[name]
	if !ok {
		return fmt.Errorf("load balancer: %s: %w", name, ErrNoSuchMember)
	}
	for s := range m.sessions {
		s.kill()
	}
	return nil
}

// member is one server of the backend; its fields are guarded by LB.mu.
type member struct {
	cfg        MemberConfig
	id         int
	admin      Admin
	up         bool
	health     int // HAProxy's check->health: 0..rise+fall-1
	lastChange time.Time
	downSince  time.Time
	downtime   time.Duration
	chkfail    int64
	chkdown    int64
	check      checkResult
	sessions   map[*session]struct{}
	c          counters
}

func (m *member) state() State { return State{Admin: m.admin, Up: m.up} }

func (m *member) statusLocked(cfg Config) Status {
	return Status{Name: m.cfg.Name, State: m.state(), Sessions: int(m.c.scur), Served: m.c.lbtot, Detail: m.detail(cfg)}
}

// detail renders HAProxy's status column (stats.c, srv_hlt_st[]).
func (m *member) detail(cfg Config) string {
	max := cfg.Rise + cfg.Fall - 1
	switch {
	case m.admin == Maint:
		return "MAINT"
	case m.up:
		word := "UP"
		if m.admin == Drain {
			word = "DRAIN"
		}
		if m.health < max {
			return fmt.Sprintf("%s %d/%d", word, m.health-cfg.Rise+1, cfg.Fall)
		}
		return word
	case m.health > 0:
		return fmt.Sprintf("DOWN %d/%d", m.health, cfg.Rise)
	}
	return "DOWN"
}

// changeLocked applies a new admin/up pair and reports it.
func (l *LB) changeLocked(m *member, to State) {
	from := m.state()
	if from == to {
		return
	}
	now := time.Now()
	if from.Up != to.Up {
		m.lastChange = now
		if !to.Up {
			m.downSince = now
			m.chkdown++
		} else if !m.downSince.IsZero() {
			m.downtime += now.Sub(m.downSince)
		}
	}
	if from.Admin != to.Admin {
		m.lastChange = now
	}
	m.admin, m.up = to.Admin, to.Up
	if l.cfg.OnEvent != nil {
		l.cfg.OnEvent(Event{Time: now, Member: m.cfg.Name, From: from, To: to})
	}
}

func (l *LB) setAdminLocked(m *member, a Admin) {
	to := State{Admin: a, Up: m.up}
	switch {
	case a == Maint && m.admin != Maint:
		// Maintenance stops the checks and the server; HAProxy shows
		// op_state 0 and health 0.
		to.Up = false
		m.health = 0
	case a != Maint && m.admin == Maint:
		// Leaving maintenance: HAProxy starts the server at the lowest
		// "up" health (server.c, srv_update_status), in rotation at once;
		// the next check, on its usual schedule, confirms it or takes it
		// down.
		to.Up = true
		m.health = l.cfg.Rise
	}
	l.changeLocked(m, to)
}

// session is one request in flight on a member.
type session struct {
	cancel context.CancelFunc
	killed bool
}

func (s *session) kill() {
	s.killed = true
	s.cancel()
}
