package haproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules/lbmember/member"
	"github.com/osrun/osrun/modules/lbmember/setting"
)

// Config says where the runtime API listens and which backend is the pool.
type Config struct {
	// Network is "unix" or "tcp".
	Network string
	// Address is the socket path or host:port.
	Address string
	Backend string
	// Timeout bounds each command (dial, write, read); zero means 10s.
	Timeout time.Duration
	// MaxAge is how long one read of the backend answers the callers that
	// arrive after it began; zero means DefaultMaxAge, negative means
	// that only callers arriving while a read is in flight share it.
	MaxAge time.Duration
}

// DefaultMaxAge is how long a read of the backend is reused by default.
//
// Every Status reads the whole backend (HAProxy has no per-server form of
// "show servers state"), and lb_member polls each draining or enabling host
// on its own, so without sharing a farm of n hosts costs n reads of n rows
// per poll interval. 20ms is no longer than the shortest poll interval in
// use (the tests' 20ms, the lab's 50ms; the default is 2s), so a host
// polling alone never gets the same reading twice, and it is a small
// fraction of HAProxy's health check interval (2s by default), the pace at
// which health changes. A state change made through the driver discards
// the reading at once.
const DefaultMaxAge = 20 * time.Millisecond

// Driver talks to one HAProxy backend. It is safe for concurrent use, and
// concurrent callers share reads of the backend (see Config.MaxAge).
type Driver struct {
	cfg  Config
	dial func(ctx context.Context) (net.Conn, error) // replaced by tests

	mu     sync.Mutex
	gen    uint64  // incremented when a state change returns
	flight *flight // the read in progress, if any
	cached *flight // the last complete, successful reading of gen
}

// New returns a driver for cfg.
func New(cfg Config) *Driver {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	d := &Driver{cfg: cfg}
	d.dial = func(ctx context.Context) (net.Conn, error) {
		var dialer net.Dialer
		return dialer.DialContext(ctx, d.cfg.Network, d.cfg.Address)
	}
	return d
}

// FromEndpoint decodes the settings of a load_balancer block:
// socket (a unix socket path) or address (host:port of a TCP stats
// socket), backend, and optionally timeout.
func FromEndpoint(ep *inventory.Endpoint) (*Driver, error) {
	r := setting.New(fmt.Sprintf("load balancer %s (haproxy)", ep.Name), ep.Settings)
	cfg := Config{Backend: r.Required("backend"), Timeout: r.Duration("timeout", 0)}
	sock, addr := r.String("socket", ""), r.String("address", "")
	switch {
	case sock != "" && addr != "":
		r.Fail("address", "give either socket or address, not both")
	case sock != "":
		cfg.Network, cfg.Address = "unix", sock
	case addr != "":
		if _, _, err := net.SplitHostPort(addr); err != nil {
			r.Fail("address", "%q is not host:port", addr)
		}
		cfg.Network, cfg.Address = "tcp", addr
	default:
		r.Fail("socket", "give socket (a unix socket path) or address (host:port of a TCP stats socket)")
	}
	if err := validName(cfg.Backend); err != nil && cfg.Backend != "" {
		r.Fail("backend", "%v", err)
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return New(cfg), nil
}

// Pool implements lbmember.Driver.
func (d *Driver) Pool() string {
	return fmt.Sprintf("haproxy backend %s at %s", d.cfg.Backend, d.cfg.Address)
}

// ErrBackendNotFound is wrapped when HAProxy does not know the backend.
var ErrBackendNotFound = errors.New("no such backend")

// validName refuses names that would change the meaning of a command line:
// HAProxy splits commands on ';' and words on spaces.
func validName(s string) error {
	if s == "" || strings.ContainsAny(s, " \t\r\n;/\\") {
		return fmt.Errorf("%q is not a valid HAProxy backend or server name", s)
	}
	return nil
}

// command sends one command line and returns HAProxy's whole reply.
func (d *Driver) command(ctx context.Context, line string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	conn, err := d.dial(ctx)
	if err != nil {
		return "", fmt.Errorf("connect to the runtime API: %w", err)
	}
	defer conn.Close()
	// Closing the connection is how a blocked read learns about ctx.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if _, err := io.WriteString(conn, line+"\n"); err != nil {
		return "", fmt.Errorf("%s: %w", line, ctxErr(ctx, err))
	}
	// Non-interactive mode: HAProxy answers and closes.
	out, err := io.ReadAll(io.LimitReader(conn, 16<<20))
	if err != nil {
		return "", fmt.Errorf("%s: read reply: %w", line, ctxErr(ctx, err))
	}
	return string(out), nil
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// replyError turns HAProxy's error lines into errors. HAProxy has no status
// codes on this API: success is the expected output (or none at all).
func replyError(reply string) error {
	first, _, _ := strings.Cut(strings.TrimLeft(reply, "\n"), "\n")
	switch {
	case first == "No such server.":
		return member.ErrNotFound
	case first == "No such backend." || first == "Can't find backend." || first == "No such proxy.":
		return ErrBackendNotFound
	case strings.HasPrefix(first, "Permission denied"):
		return errors.New("permission denied: the stats socket needs \"level admin\"")
	case strings.HasPrefix(first, "Unknown command"):
		return errors.New("HAProxy does not know this command (is it older than 2.0?)")
	}
	return fmt.Errorf("HAProxy replied %q", strings.TrimSpace(first))
}

var verbs = map[member.State]string{
	member.Enabled:  "ready",
	member.Drained:  "drain",
	member.Disabled: "maint",
}

// SetState implements lbmember.Driver.
func (d *Driver) SetState(ctx context.Context, name string, st member.State) error {
	verb, ok := verbs[st]
	if !ok {
		return fmt.Errorf("%s: set %s: unknown state %q", d.Pool(), name, st)
	}
	return d.serverCommand(ctx, "set server %s/%s state "+verb, name)
}

// KillSessions implements lbmember.SessionKiller with
// "shutdown sessions server", for sessions a drain timeout left behind.
func (d *Driver) KillSessions(ctx context.Context, name string) error {
	return d.serverCommand(ctx, "shutdown sessions server %s/%s", name)
}

// serverCommand runs a command that prints nothing on success.
func (d *Driver) serverCommand(ctx context.Context, format, name string) error {
	if err := validName(name); err != nil {
		return fmt.Errorf("%s: %w", d.Pool(), err)
	}
	line := fmt.Sprintf(format, d.cfg.Backend, name)
	reply, err := d.command(ctx, line)
	// Whatever the reply, the command may have reached HAProxy: readings
	// that began before now no longer answer.
	d.invalidate()
	if err != nil {
		return fmt.Errorf("%s: %w", d.Pool(), err)
	}
	if strings.TrimSpace(reply) != "" {
		return fmt.Errorf("%s: %s: %w", d.Pool(), line, replyError(reply))
	}
	return nil
}

// Members implements lbmember.Driver.
func (d *Driver) Members(ctx context.Context) ([]member.Status, error) {
	r, err := d.read(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Clone(r.all), nil
}

// Status implements lbmember.Driver.
func (d *Driver) Status(ctx context.Context, name string) (member.Status, error) {
	r, err := d.read(ctx)
	if err != nil {
		return member.Status{}, err
	}
	i, ok := r.byName[name]
	if !ok {
		return member.Status{}, fmt.Errorf("%s: server %s: %w", d.Pool(), name, member.ErrNotFound)
	}
	return r.all[i], nil
}

// reading is the whole backend as one read of "show servers state" and
// "show stat" saw it, parsed once.
type reading struct {
	all    []member.Status // in HAProxy's order
	byName map[string]int  // index in all
}

// flight is a read in progress. done is closed once r and err are set;
// waiters counts the callers waiting for it, and the read is cancelled
// when the last one gives up.
type flight struct {
	gen     uint64
	start   time.Time
	done    chan struct{}
	r       *reading
	err     error
	waiters int
	cancel  context.CancelFunc
}

// read returns the backend's members, coalescing callers: a caller joins
// the read in flight, or takes the last reading if it began less than
// cfg.MaxAge ago, unless a state change made through this driver returned
// since that read began.
func (d *Driver) read(ctx context.Context) (*reading, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", d.Pool(), err)
	}
	d.mu.Lock()
	if c := d.cached; c != nil && c.gen == d.gen && time.Now().Sub(c.start) < d.cfg.MaxAge {
		d.mu.Unlock()
		return c.r, nil
	}
	f := d.flight
	if f == nil || f.gen != d.gen {
		f = d.startLocked(ctx)
	}
	f.waiters++
	d.mu.Unlock()

	select {
	case <-f.done:
		return f.r, f.err
	case <-ctx.Done():
		d.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			// Nobody else waits: stop the read, and let the next caller
			// start afresh rather than join a cancelled read.
			f.cancel()
			if d.flight == f {
				d.flight = nil
			}
		}
		d.mu.Unlock()
		return nil, fmt.Errorf("%s: %w", d.Pool(), ctx.Err())
	}
}

// startLocked starts a read for the current generation. It runs on its own
// context (the first caller's values, not its cancellation) because other
// callers may join it; read cancels it when every caller has left.
func (d *Driver) startLocked(ctx context.Context) *flight {
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &flight{gen: d.gen, start: time.Now(), done: make(chan struct{}), cancel: cancel}
	d.flight = f
	go func() {
		defer cancel()
		r, err := d.readBackend(rctx)
		d.mu.Lock()
		defer d.mu.Unlock()
		f.r, f.err = r, err
		close(f.done)
		if d.flight == f {
			d.flight = nil
		}
		// A reading that began before a state change returned is not kept
		// (it may predate the change), nor is a failure.
		if err == nil && f.gen == d.gen && (d.cached == nil || d.cached.start.Before(f.start)) {
			d.cached = f
		}
	}()
	return f
}

// invalidate makes readings that began before now unusable for callers
// that arrive from now on. State changes call it once the balancer has
// answered, whether or not it accepted the change.
func (d *Driver) invalidate() {
	d.mu.Lock()
	d.gen++
	d.cached = nil
	d.mu.Unlock()
}

// readBackend reads the state of every server, then the session counts,
// and parses each reply once.
func (d *Driver) readBackend(ctx context.Context) (*reading, error) {
	servers, err := d.serversState(ctx)
	if err != nil {
		return nil, err
	}
	stats, err := d.stats(ctx)
	if err != nil {
		return nil, err
	}
	r := &reading{all: make([]member.Status, 0, len(servers)), byName: make(map[string]int, len(servers))}
	for _, s := range servers {
		if _, dup := r.byName[s.name]; dup {
			continue // names are unique in a backend; the first one wins
		}
		r.byName[s.name] = len(r.all)
		r.all = append(r.all, s.status(stats[s.name]))
	}
	return r, nil
}

func (d *Driver) serversState(ctx context.Context) ([]serverState, error) {
	line := "show servers state " + d.cfg.Backend
	reply, err := d.command(ctx, line)
	if err == nil {
		var servers []serverState
		if servers, err = parseServersState(reply); err == nil {
			return servers, nil
		}
	}
	return nil, fmt.Errorf("%s: %s: %w", d.Pool(), line, err)
}

func (d *Driver) stats(ctx context.Context) (map[string]statRow, error) {
	line := "show stat " + d.cfg.Backend + " 4 -1"
	reply, err := d.command(ctx, line)
	if err == nil {
		var rows map[string]statRow
		if rows, err = parseStat(reply, d.cfg.Backend); err == nil {
			return rows, nil
		}
	}
	return nil, fmt.Errorf("%s: %s: %w", d.Pool(), line, err)
}
