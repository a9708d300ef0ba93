package haproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
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
}

// Driver talks to one HAProxy backend.
type Driver struct {
	cfg Config
}

// New returns a driver for cfg.
func New(cfg Config) *Driver {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	return &Driver{cfg: cfg}
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
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, d.cfg.Network, d.cfg.Address)
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
	servers, err := d.serversState(ctx)
	if err != nil {
		return nil, err
	}
	stats, err := d.stats(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]member.Status, 0, len(servers))
	for _, s := range servers {
		out = append(out, s.status(stats[s.name]))
	}
	return out, nil
}

// Status implements lbmember.Driver.
func (d *Driver) Status(ctx context.Context, name string) (member.Status, error) {
	servers, err := d.serversState(ctx)
	if err != nil {
		return member.Status{}, err
	}
	for _, s := range servers {
		if s.name == name {
			stats, err := d.stats(ctx)
			if err != nil {
				return member.Status{}, err
			}
			return s.status(stats[name]), nil
		}
	}
	return member.Status{}, fmt.Errorf("%s: server %s: %w", d.Pool(), name, member.ErrNotFound)
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
