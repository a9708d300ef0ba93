package windowsnlbtest

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/osrun/osrun/modules/hostscript"
	"github.com/osrun/osrun/transports/winrm/winrmtest"
)

// Node states as Get-NlbClusterNode shows them.
const (
	Converged  = "Converged"
	Converging = "Converging"
	Draining   = "Draining"
	Stopped    = "Stopped"
	Suspended  = "Suspended"
)

// IDPrefix starts the ids of the scripts the simulation answers.
const IDPrefix = "lb_member/windows_nlb_"

// Cluster is the simulated cluster. Its methods are safe for concurrent use.
type Cluster struct {
	name, ip, iface string

	mu       sync.Mutex
	nodes    []*node
	minute   time.Duration
	changed  chan struct{} // closed and replaced on every change
	commands []string
	noModule bool
}

type node struct {
	name      string
	state     string
	conns     int
	heartbeat bool
	rounds    int // status reads left showing Converging after a start
}

// New returns a cluster named name with IP address ip, bound on interface
// iface, whose nodes are Converged and idle. One simulated minute lasts a
// minute until SetMinute.
func New(name, ip, iface string, nodes ...string) *Cluster {
	c := &Cluster{name: name, ip: ip, iface: iface, minute: time.Minute, changed: make(chan struct{})}
	for _, n := range nodes {
		c.nodes = append(c.nodes, &node{name: n, state: Converged, heartbeat: true})
	}
	return c
}

// SetMinute sets how long one minute of -Timeout lasts.
func (c *Cluster) SetMinute(d time.Duration) { c.mu.Lock(); c.minute = d; c.mu.Unlock() }

// NoModule makes Import-Module NetworkLoadBalancingClusters fail, as on a
// host without the NLB feature.
func (c *Cluster) NoModule() { c.mu.Lock(); c.noModule = true; c.mu.Unlock() }

// Put sets a node's state directly (e.g. Suspended by an administrator).
func (c *Cluster) Put(name, state string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.find(name)
	n.state, n.rounds = state, 0
	if state == Stopped || state == Suspended {
		n.conns = 0
	}
	c.notify()
}

// State returns a node's state.
func (c *Cluster) State(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.find(name).state
}

// Open opens a client connection through NLB to a node, which must be
// Converged (NLB sends new connections nowhere else). release closes it
// and may be called more than once.
func (c *Cluster) Open(name string) (release func(), err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.find(name)
	if n.state != Converged {
		return nil, fmt.Errorf("nlb sim: %s is %s and takes no new connections", name, n.state)
	}
	n.conns++
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if n.conns == 0 {
				return // dropped by a stop
			}
			n.conns--
			if n.conns == 0 && n.state == Draining {
				n.state = Stopped
			}
			c.notify()
		})
	}, nil
}

// SetHeartbeat makes a node's heartbeats reach the cluster or not.
func (c *Cluster) SetHeartbeat(name string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.find(name)
	n.heartbeat = ok
	if !ok && n.state == Converged {
		n.state = Converging
	}
	c.notify()
}

// WaitState blocks until a node is in state, or ctx ends.
func (c *Cluster) WaitState(ctx context.Context, name, state string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.find(name)
	for n.state != state {
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
			c.mu.Lock()
		case <-ctx.Done():
			c.mu.Lock()
			return fmt.Errorf("nlb sim: %s is %s, not %s: %w", name, n.state, state, ctx.Err())
		}
	}
	return nil
}

// WaitCommand blocks until a cmdlet has run (see Commands), or ctx ends.
func (c *Cluster) WaitCommand(ctx context.Context, cmd string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for !slices.Contains(c.commands, cmd) {
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
			c.mu.Lock()
		case <-ctx.Done():
			c.mu.Lock()
			return fmt.Errorf("nlb sim: %q has not run: %w", cmd, ctx.Err())
		}
	}
	return nil
}

// Commands returns the cmdlets that changed something, in order, e.g.
// "Stop-NlbClusterNode fe01 -Drain -Timeout 10".
func (c *Cluster) Commands() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.commands...)
}

// Register makes h answer the driver's scripts.
func (c *Cluster) Register(h *winrmtest.Host) {
	h.HandleMatch(func(script string) bool {
		return strings.HasPrefix(hostscript.ID(script), IDPrefix)
	}, c.run)
}

func (c *Cluster) find(name string) *node {
	for _, n := range c.nodes {
		if strings.EqualFold(n.name, name) { // PowerShell's -eq
			return n
		}
	}
	panic("nlb sim: no node " + name)
}

func (c *Cluster) lookup(name string) *node {
	for _, n := range c.nodes {
		if strings.EqualFold(n.name, name) {
			return n
		}
	}
	return nil
}

func (c *Cluster) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *Cluster) record(format string, args ...any) {
	c.commands = append(c.commands, fmt.Sprintf(format, args...))
	c.notify()
}

// inputRE reads the "$Name = '<value>'" lines of hostscript's contract.
var inputRE = regexp.MustCompile(`(?m)^\$(\w+) = '((?:[^']|'')*)'\r?$`)

func inputs(script string) map[string]string {
	in := map[string]string{}
	for _, m := range inputRE.FindAllStringSubmatch(script, -1) {
		in[m[1]] = strings.ReplaceAll(m[2], "''", "'")
	}
	return in
}

var (
	drainTimeoutRE = regexp.MustCompile(`(?m)^\s*Stop-NlbClusterNode -InputObject \$found\[0\] -Drain -Timeout (\d+) \| Out-Null\r?$`)
	plainStopRE    = regexp.MustCompile(`(?m)^\s*Stop-NlbClusterNode -InputObject \$found\[0\] \| Out-Null\r?$`)
)

func fail(stderr io.Writer, msg string) int {
	io.WriteString(stderr, winrmtest.CLIXMLError(msg))
	return 1
}

func (c *Cluster) run(ctx context.Context, script string, _ io.Reader, stdout, stderr io.Writer) int {
	id := strings.TrimPrefix(hostscript.ID(script), IDPrefix)
	in := inputs(script)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.noModule {
		return fail(stderr, "Import-Module : The specified module 'NetworkLoadBalancingClusters' was not loaded because no valid module file was found in any module directory.")
	}
	if iface := in["Interface"]; iface != "" && !strings.EqualFold(iface, c.iface) {
		return fail(stderr, fmt.Sprintf("Get-NlbClusterNode : The interface '%s' is not bound to a Network Load Balancing cluster on this host.", iface))
	}
	out := func(key, value string) { fmt.Fprintf(stdout, "osrun-%s=%s\r\n", key, value) }
	if id == "status" {
		out("cluster-name", c.name)
		out("cluster-ip", c.ip)
		out("nodes", strconv.Itoa(len(c.nodes)))
		for i, n := range c.nodes {
			if n.state == Converging && n.heartbeat && n.rounds == 0 {
				n.state = Converged
			}
			out(fmt.Sprintf("node%d-name", i), n.name)
			out(fmt.Sprintf("node%d-state", i), n.state)
			if n.rounds > 0 {
				n.rounds--
			}
		}
		return 0
	}
	n := c.lookup(in["Node"])
	if n == nil {
		out("missing", in["Node"])
		return 0
	}
	switch id {
	case "start":
		if n.state == Suspended {
			c.record("Resume-NlbClusterNode %s", n.name)
			n.state = Stopped
		}
		if n.state == Stopped || n.state == Draining {
			c.record("Start-NlbClusterNode %s", n.name)
			n.state, n.rounds = Converging, 1
		}
	case "drain":
		if strings.HasPrefix(n.state, "Converg") {
			c.record("Stop-NlbClusterNode %s -Drain (in a second runspace)", n.name)
			c.drainstop(n)
		}
	case "stop":
		if n.state == Stopped || n.state == Suspended {
			break
		}
		if m := drainTimeoutRE.FindStringSubmatch(script); m != nil {
			minutes, _ := strconv.Atoi(m[1])
			c.record("Stop-NlbClusterNode %s -Drain -Timeout %d", n.name, minutes)
			if !c.waitDrained(ctx, n, time.Duration(minutes)*c.minute) {
				return fail(stderr, "Stop-NlbClusterNode : The pipeline has been stopped.")
			}
		} else if plainStopRE.MatchString(script) {
			c.record("Stop-NlbClusterNode %s", n.name)
			n.state, n.conns = Stopped, 0
			c.notify()
		} else {
			return fail(stderr, "nlb sim: stop script without a Stop-NlbClusterNode line it knows")
		}
	default:
		return fail(stderr, "nlb sim: unknown script "+id)
	}
	out("state", n.state)
	return 0
}

// drainstop starts a drain: NLB stops the node when it holds no connection.
func (c *Cluster) drainstop(n *node) {
	n.state, n.rounds = Draining, 0
	if n.conns == 0 {
		n.state = Stopped
	}
	c.notify()
}

// waitDrained drains n and waits, with c.mu held on entry and exit, until
// it stops or timeout passes (then stops it, dropping its connections). It
// reports false when ctx ended first: the cmdlet was interrupted and the
// node goes on draining.
func (c *Cluster) waitDrained(ctx context.Context, n *node, timeout time.Duration) bool {
	c.drainstop(n)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for n.state == Draining {
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
			c.mu.Lock()
		case <-timer.C:
			c.mu.Lock()
			if n.state == Draining {
				n.state, n.conns = Stopped, 0
				c.notify()
			}
		case <-ctx.Done():
			c.mu.Lock()
			return false
		}
	}
	return true
}
