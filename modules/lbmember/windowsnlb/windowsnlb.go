package windowsnlb

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules/hostscript"
	"github.com/osrun/osrun/modules/lbmember/member"
	"github.com/osrun/osrun/modules/lbmember/setting"
	"github.com/osrun/osrun/transports/winrm"
)

//go:embed scripts
var scriptFS embed.FS

var scripts = hostscript.MustParse(scriptFS, "scripts/*.ps1")

// Defaults of Config.
const (
	DefaultDrainTimeout   = 10 * time.Minute
	DefaultDrainStartWait = 30 * time.Second
)

// Config says where the cmdlets run and how.
type Config struct {
	// Node is the cluster node the cmdlets run on: its Address and WinRM
	// settings. Any node of the cluster can act on all of them.
	Node *inventory.Host
	// Interface, when set, is passed as -InterfaceName: the network
	// interface NLB is bound to on Node, needed when it has several clusters.
	Interface string
	// Cluster, when set, must be the cluster's name or IP address as
	// Get-NlbCluster reports it; the driver refuses to work on another.
	Cluster string
	// DrainTimeout is Stop-NlbClusterNode's -Timeout when disabling,
	// rounded up to whole minutes (default 10 minutes).
	DrainTimeout time.Duration
	// DrainStartWait bounds how long draining waits for NLB to report
	// the node Draining (default 30s).
	DrainStartWait time.Duration
	// Dial opens the connection to Node; nil means winrm.Dial.
	Dial func(ctx context.Context, h *inventory.Host) (hostscript.Runner, error)
}

// Driver talks to one NLB cluster through one of its nodes. It is safe
// for concurrent use; the connection is opened on first use.
type Driver struct {
	cfg Config

	mu   sync.Mutex
	conn hostscript.Runner
}

// New returns a driver for cfg.
func New(cfg Config) *Driver {
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	if cfg.DrainStartWait <= 0 {
		cfg.DrainStartWait = DefaultDrainStartWait
	}
	if cfg.Dial == nil {
		cfg.Dial = func(ctx context.Context, h *inventory.Host) (hostscript.Runner, error) {
			return winrm.Dial(ctx, h, winrm.Options{})
		}
	}
	return &Driver{cfg: cfg}
}

// FromEndpoint decodes a load_balancer block: address (the node to run
// the cmdlets on), user, password (a secret reference), and optionally
// port, https (default true), auth (ntlm, basic or certificate),
// client_cert and client_key, ca_file, insecure, timeout (per WinRM
// request), interface, cluster, drain_timeout (default "10m").
func FromEndpoint(ep *inventory.Endpoint) (*Driver, error) {
	r := setting.New(fmt.Sprintf("load balancer %s (windows_nlb)", ep.Name), ep.Settings)
	https := r.Bool("https", true)
	w := inventory.WinRMSettings{
		Port:       r.Int("port", 0),
		HTTPS:      &https,
		Insecure:   r.Bool("insecure", false),
		CAFile:     r.String("ca_file", ""),
		Auth:       strings.ToLower(r.String("auth", "ntlm")),
		User:       r.String("user", ""),
		Password:   r.Secret("password"),
		ClientCert: r.String("client_cert", ""),
		ClientKey:  r.String("client_key", ""),
		Timeout:    r.Duration("timeout", 0),
	}
	node := &inventory.Host{Name: r.Required("address"), Stack: inventory.StackDotNet, Transport: "winrm", WinRM: w}
	node.Address = node.Name
	switch w.Auth {
	case "ntlm", "basic":
		if w.User == "" {
			r.Fail("user", "is required with auth %q", w.Auth)
		}
		if w.Password.IsZero() {
			r.Fail("password", "is required with auth %q", w.Auth)
		}
		if w.Auth == "basic" && !https {
			r.Fail("auth", "basic over plain http would send the password in clear text: use https, or ntlm")
		}
	case "certificate":
		if w.ClientCert == "" || w.ClientKey == "" {
			r.Fail("auth", "certificate needs client_cert and client_key")
		}
	default:
		r.Fail("auth", "%q is not ntlm, basic or certificate", w.Auth)
	}
	if w.Port < 0 || w.Port > 65535 {
		r.Fail("port", "%d is not a TCP port", w.Port)
	}
	for name, path := range map[string]string{"ca_file": w.CAFile, "client_cert": w.ClientCert, "client_key": w.ClientKey} {
		if path != "" {
			if _, err := os.Stat(path); err != nil {
				r.Fail(name, "%v", err)
			}
		}
	}
	cfg := Config{
		Node:         node,
		Interface:    r.String("interface", ""),
		Cluster:      r.String("cluster", ""),
		DrainTimeout: r.Duration("drain_timeout", DefaultDrainTimeout),
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return New(cfg), nil
}

// Pool implements lbmember.Driver.
func (d *Driver) Pool() string {
	if d.cfg.Cluster != "" {
		return fmt.Sprintf("windows nlb cluster %s via %s", d.cfg.Cluster, d.cfg.Node.Address)
	}
	return "windows nlb cluster of " + d.cfg.Node.Address
}

// ErrWrongCluster is wrapped when the node's cluster is not the configured one.
var ErrWrongCluster = errors.New("not the configured cluster")

// scriptData is what the templates see.
type scriptData struct {
	Interface   string
	Node        string
	Drain       bool
	Minutes     int
	WaitSeconds int
}

func (d *Driver) runner(ctx context.Context) (hostscript.Runner, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil {
		return d.conn, nil
	}
	c, err := d.cfg.Dial(ctx, d.cfg.Node)
	if err != nil {
		return nil, err
	}
	d.conn = c
	return c, nil
}

// run renders and runs one script; what names the operation in errors.
func (d *Driver) run(ctx context.Context, what, tmpl string, data scriptData) (*hostscript.Output, error) {
	data.Interface = d.cfg.Interface
	text, err := scripts.Render(tmpl, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", d.Pool(), what, err)
	}
	c, err := d.runner(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", d.Pool(), what, err)
	}
	out, err := hostscript.Exec(ctx, c, hostscript.Script{Text: text, TailLines: 10})
	if err != nil {
		tail := out.Tail()
		for _, line := range tail {
			if strings.Contains(line, "'NetworkLoadBalancingClusters' was not loaded") {
				what += fmt.Sprintf(" (is the NLB feature's PowerShell module on %s? Install-WindowsFeature RSAT-NLB)", d.cfg.Node.Address)
				break
			}
		}
		return nil, fmt.Errorf("%s: %s: %w", d.Pool(), what, hostscript.Annotate(err, tail))
	}
	return out, nil
}

// Members implements lbmember.Driver.
func (d *Driver) Members(ctx context.Context) ([]member.Status, error) {
	out, err := d.run(ctx, "list nodes", "status.ps1", scriptData{})
	if err != nil {
		return nil, err
	}
	name, _ := out.Value("cluster-name")
	ip, _ := out.Value("cluster-ip")
	if d.cfg.Cluster != "" && !strings.EqualFold(d.cfg.Cluster, name) && d.cfg.Cluster != ip {
		return nil, fmt.Errorf("%s: %s is in NLB cluster %s (%s): %w", d.Pool(), d.cfg.Node.Address, name, ip, ErrWrongCluster)
	}
	v, _ := out.Value("nodes")
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, fmt.Errorf("%s: list nodes: the script reported %q nodes", d.Pool(), v)
	}
	all := make([]member.Status, 0, n)
	for i := range n {
		name, _ := out.Value(fmt.Sprintf("node%d-name", i))
		state, _ := out.Value(fmt.Sprintf("node%d-state", i))
		all = append(all, status(name, state))
	}
	return all, nil
}

// status maps NLB's node state to a member status.
func status(name, state string) member.Status {
	st := member.Status{Name: name, Detail: state + " (NLB counts no sessions)"}
	switch s := strings.ToLower(state); {
	case strings.HasPrefix(s, "converged") || s == "default":
		st.State, st.Healthy = member.Enabled, true
	case s == "draining":
		st.State, st.Healthy = member.Drained, true
	case s == "stopped" || s == "suspended":
		st.State = member.Disabled
	default: // Converging, Unknown, …: started, not (yet) serving.
		st.State = member.Enabled
	}
	return st
}

// Status implements lbmember.Driver.
func (d *Driver) Status(ctx context.Context, name string) (member.Status, error) {
	all, err := d.Members(ctx)
	if err != nil {
		return member.Status{}, err
	}
	for _, st := range all {
		if strings.EqualFold(st.Name, name) {
			return st, nil
		}
	}
	return member.Status{}, fmt.Errorf("%s: node %s: %w", d.Pool(), name, member.ErrNotFound)
}

// act runs an action script against node name and returns the state NLB
// reported afterwards.
func (d *Driver) act(ctx context.Context, what, tmpl, name string, data scriptData) (string, error) {
	data.Node = name
	out, err := d.run(ctx, what+" "+name, tmpl, data)
	if err != nil {
		return "", err
	}
	if _, missing := out.Value("missing"); missing {
		return "", fmt.Errorf("%s: %s node %s: %w", d.Pool(), what, name, member.ErrNotFound)
	}
	state, ok := out.Value("state")
	if !ok {
		return "", fmt.Errorf("%s: %s node %s: the script reported no state", d.Pool(), what, name)
	}
	return state, nil
}

// SetState implements lbmember.Driver. Draining and starting return once
// NLB has taken the change; disabling a started node blocks until NLB has
// drained it or DrainTimeout has passed. Draining a stopped or suspended
// node does nothing: it already is where a drain ends (see the package
// comment).
func (d *Driver) SetState(ctx context.Context, name string, want member.State) error {
	if _, err := member.Parse(string(want)); err != nil {
		return fmt.Errorf("%s: set %s: %w", d.Pool(), name, err)
	}
	cur, err := d.Status(ctx, name)
	if err != nil {
		return err
	}
	if cur.State == want {
		return nil
	}
	switch want {
	case member.Enabled:
		state, err := d.act(ctx, "start", "start.ps1", cur.Name, scriptData{})
		if err != nil {
			return err
		}
		if status(cur.Name, state).State != member.Enabled {
			return fmt.Errorf("%s: start node %s: NLB still reports it %s", d.Pool(), cur.Name, state)
		}
	case member.Drained:
		if cur.State == member.Disabled {
			// Stopped is where an NLB drain ends, and NLB cannot drain a
			// node that is not started (starting it would put it back in
			// rotation): nothing to do, and Status goes on saying disabled.
			return nil
		}
		state, err := d.act(ctx, "drain", "drain.ps1", cur.Name, scriptData{WaitSeconds: int((d.cfg.DrainStartWait + time.Second - 1) / time.Second)})
		if err != nil {
			return err
		}
		if st := status(cur.Name, state).State; st == member.Enabled {
			return fmt.Errorf("%s: drain node %s: NLB still reports it %s after %s (the drainstop may yet take effect)", d.Pool(), cur.Name, state, d.cfg.DrainStartWait)
		}
	case member.Disabled:
		state, err := d.act(ctx, "drain and stop", "stop.ps1", cur.Name, scriptData{Drain: true, Minutes: d.minutes()})
		if err != nil {
			return err
		}
		if status(cur.Name, state).State != member.Disabled {
			return fmt.Errorf("%s: drain and stop node %s: NLB still reports it %s", d.Pool(), cur.Name, state)
		}
	}
	return nil
}

// KillSessions implements lbmember.SessionKiller: a plain
// Stop-NlbClusterNode, which drops the connections the node still serves.
// A stopped or suspended node has none.
func (d *Driver) KillSessions(ctx context.Context, name string) error {
	cur, err := d.Status(ctx, name)
	if err != nil {
		return err
	}
	if cur.State == member.Disabled {
		return nil
	}
	state, err := d.act(ctx, "stop", "stop.ps1", cur.Name, scriptData{})
	if err != nil {
		return err
	}
	if status(cur.Name, state).State != member.Disabled {
		return fmt.Errorf("%s: stop node %s: NLB still reports it %s", d.Pool(), cur.Name, state)
	}
	return nil
}

// minutes is DrainTimeout in whole minutes, rounded up: -Timeout counts minutes.
func (d *Driver) minutes() int {
	return max(1, int((d.cfg.DrainTimeout+time.Minute-1)/time.Minute))
}

// stateWord is NLB's own word for st, without the note on sessions.
func stateWord(st member.Status) string {
	w, _, _ := strings.Cut(st.Detail, " ")
	return w
}
