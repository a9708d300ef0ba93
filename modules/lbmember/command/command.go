package command

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"text/template"
	"time"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules/lbmember/member"
	"github.com/osrun/osrun/modules/lbmember/setting"
)

// ExitNotFound is the exit status by which a command says the member does
// not exist.
const ExitNotFound = 3

// Config holds the command templates (unparsed) and limits.
type Config struct {
	// Pool names the pool in messages.
	Pool                           string
	Enable, Drain, Disable, Status string
	// Members lists the pool; without it min_in_rotation cannot be checked.
	Members string
	// Kill cuts a member's sessions (on_drain_timeout = "force"); optional.
	Kill string
	// Timeout bounds each command; zero means 1m.
	Timeout time.Duration
}

// Driver runs the configured commands.
type Driver struct {
	cfg   Config
	tmpls map[string]*template.Template
}

var names = []string{"enable", "drain", "disable", "status", "members", "kill"}

// New parses cfg's templates.
func New(cfg Config) (*Driver, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	d := &Driver{cfg: cfg, tmpls: map[string]*template.Template{}}
	src := map[string]string{"enable": cfg.Enable, "drain": cfg.Drain, "disable": cfg.Disable,
		"status": cfg.Status, "members": cfg.Members, "kill": cfg.Kill}
	var errs []error
	for _, name := range names {
		if src[name] == "" {
			continue
		}
		t, err := template.New(name).Option("missingkey=error").Parse(src[name])
		if err != nil {
			errs = append(errs, fmt.Errorf("command %s: %w", name, err))
			continue
		}
		d.tmpls[name] = t
	}
	return d, errors.Join(errs...)
}

// FromEndpoint decodes a load_balancer block: enable, drain, disable and
// status (required), members and kill (optional), pool and timeout.
func FromEndpoint(ep *inventory.Endpoint) (*Driver, error) {
	r := setting.New(fmt.Sprintf("load balancer %s (command)", ep.Name), ep.Settings)
	cfg := Config{
		Pool:    r.String("pool", ep.Name),
		Enable:  r.Required("enable"),
		Drain:   r.Required("drain"),
		Disable: r.Required("disable"),
		Status:  r.Required("status"),
		Members: r.String("members", ""),
		Kill:    r.String("kill", ""),
		Timeout: r.Duration("timeout", 0),
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	d, err := New(cfg)
	if err != nil {
		return nil, fmt.Errorf("load balancer %s (command): %w", ep.Name, err)
	}
	return d, nil
}

// Pool implements lbmember.Driver.
func (d *Driver) Pool() string { return "pool " + d.cfg.Pool }

// quote makes s one shell word.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// run renders and runs one command, returning its stdout.
func (d *Driver) run(ctx context.Context, name, mem string, st member.State) ([]byte, error) {
	t, ok := d.tmpls[name]
	if !ok {
		return nil, fmt.Errorf("%s: no %s command configured: %w", d.Pool(), name, member.ErrUnsupported)
	}
	var line strings.Builder
	data := map[string]string{"Member": quote(mem), "State": quote(string(st)), "Pool": quote(d.cfg.Pool)}
	if err := t.Execute(&line, data); err != nil {
		return nil, fmt.Errorf("%s: command %s: %w", d.Pool(), name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", line.String())
	cmd.Env = append(os.Environ(), "OSRUN_MEMBER="+mem, "OSRUN_STATE="+string(st), "OSRUN_POOL="+d.cfg.Pool)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &limited{w: &stderr, n: 4096}
	cmd.WaitDelay = time.Second // a backgrounded child must not hold the pipes forever
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return stdout.Bytes(), nil
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%s: command %s for %s: %w", d.Pool(), name, mem, ctx.Err())
	case errors.As(err, &exit) && exit.ExitCode() == ExitNotFound:
		return nil, fmt.Errorf("%s: command %s: %s: %w", d.Pool(), name, mem, member.ErrNotFound)
	default:
		msg := strings.TrimSpace(stderr.String())
		if msg != "" {
			msg = ": " + msg
		}
		return nil, fmt.Errorf("%s: command %s for %s: %w%s", d.Pool(), name, mem, err, msg)
	}
}

// limited keeps the first n bytes of stderr, enough for a message.
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(l.n, len(p))
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// SetState implements lbmember.Driver.
func (d *Driver) SetState(ctx context.Context, name string, st member.State) error {
	var cmd string
	switch st {
	case member.Enabled:
		cmd = "enable"
	case member.Drained:
		cmd = "drain"
	case member.Disabled:
		cmd = "disable"
	default:
		return fmt.Errorf("%s: set %s: unknown state %q", d.Pool(), name, st)
	}
	_, err := d.run(ctx, cmd, name, st)
	return err
}

// KillSessions implements lbmember.SessionKiller when a kill command is set.
func (d *Driver) KillSessions(ctx context.Context, name string) error {
	_, err := d.run(ctx, "kill", name, member.Disabled)
	return err
}

type report struct {
	Name     string `json:"name"`
	State    string `json:"state"`
	Sessions int    `json:"sessions"`
	Healthy  *bool  `json:"healthy"`
	Detail   string `json:"detail"`
}

func (r report) status(fallbackName string) (member.Status, error) {
	st, err := member.Parse(r.State)
	if err != nil {
		return member.Status{}, err
	}
	out := member.Status{Name: r.Name, State: st, Sessions: r.Sessions, Healthy: r.Healthy == nil || *r.Healthy, Detail: r.Detail}
	if out.Name == "" {
		out.Name = fallbackName
	}
	if out.Detail == "" {
		out.Detail = r.State
	}
	return out, nil
}

// Status implements lbmember.Driver.
func (d *Driver) Status(ctx context.Context, name string) (member.Status, error) {
	out, err := d.run(ctx, "status", name, "")
	if err != nil {
		return member.Status{}, err
	}
	var r report
	if err := json.Unmarshal(out, &r); err != nil {
		return member.Status{}, fmt.Errorf("%s: command status for %s printed %q, want a JSON object: %w", d.Pool(), name, clip(out), err)
	}
	st, err := r.status(name)
	if err != nil {
		return member.Status{}, fmt.Errorf("%s: command status for %s: %w", d.Pool(), name, err)
	}
	st.Name = name
	return st, nil
}

// Members implements lbmember.Driver.
func (d *Driver) Members(ctx context.Context) ([]member.Status, error) {
	out, err := d.run(ctx, "members", "", "")
	if err != nil {
		if errors.Is(err, member.ErrUnsupported) {
			return nil, fmt.Errorf("%w (min_in_rotation needs it; set min_in_rotation = 0 to go without)", err)
		}
		return nil, err
	}
	var reports []report
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%s: command members printed %q, want JSON: %w", d.Pool(), clip(out), err)
		}
		var many []report
		if err := json.Unmarshal(raw, &many); err == nil {
			reports = append(reports, many...)
			continue
		}
		var one report
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, fmt.Errorf("%s: command members printed %q, want objects or an array: %w", d.Pool(), clip(out), err)
		}
		reports = append(reports, one)
	}
	var all []member.Status
	for _, r := range reports {
		if r.Name == "" {
			return nil, fmt.Errorf("%s: command members printed a member without a name", d.Pool())
		}
		st, err := r.status("")
		if err != nil {
			return nil, fmt.Errorf("%s: command members: %s: %w", d.Pool(), r.Name, err)
		}
		all = append(all, st)
	}
	return all, nil
}

func clip(b []byte) string {
	s := secret.Clip(strings.TrimSpace(string(b)), 200)
	return s
}
