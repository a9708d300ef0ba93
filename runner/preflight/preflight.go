package preflight

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules/installer"
	"github.com/osrun/osrun/modules/lbmember"
	"github.com/osrun/osrun/runner"
	"github.com/osrun/osrun/runner/playbook"
	"github.com/osrun/osrun/transports"
)

// DefaultMinCapacity is the share of a zone's in-rotation front-ends the
// loaded set must carry unless told otherwise: half, as the balanced
// split intends.
const DefaultMinCapacity = 0.5

// DefaultTimeout bounds each check (one host, one balancer, one Service
// Center, one file) unless told otherwise.
const DefaultTimeout = 2 * time.Minute

// VersionReader reads a host's installed Platform Server over an open
// connection.
type VersionReader func(ctx context.Context, c transports.Conn, w installer.Where) (installer.Installed, error)

// Options tune a preflight.
type Options struct {
	// Dialers open connections by Host.Transport, as the runner's do.
	Dialers map[string]runner.Dialer
	// Forks bounds the checks that run at once; 0 means runner.DefaultForks.
	Forks int
	// MinCapacity is the share (0 < x ≤ 1) of each zone's in-rotation
	// front-ends that must be loaded; 0 means DefaultMinCapacity.
	MinCapacity float64
	// Limit restricts the checks to these hosts and groups, as --limit.
	Limit []string
	// Progress receives a line as each check ends; calls are serialised.
	Progress func(string)
	// LBDrivers are the load-balancer drivers; nil means lbmember.Builtin().
	LBDrivers *lbmember.Registry
	// SCTransport replaces the HTTP transport of Service Center clients
	// (the lab serves its simulator in memory); nil builds one from the
	// service_center block's settings.
	SCTransport http.RoundTripper
	// ReadVersion reads versions; nil means installer.ReadInstalled.
	ReadVersion VersionReader
	// Timeout bounds each check; 0 means DefaultTimeout.
	Timeout time.Duration
	// Resuming says the run continues an interrupted one, which may have
	// left front-ends out of rotation on purpose: a member that is not
	// enabled is then a note whatever its health, and only a zone with no
	// front-end in rotation fails the capacity check.
	Resuming bool
}

// Run checks that the farm is ready for pb (which may be nil: then no
// installer file is checked) and returns what it found. Problems are in
// the report, never in the error: the error is for a preflight that could
// not run (a bad limit or option) or was cancelled, and comes with the
// report of what was checked until then.
func Run(ctx context.Context, pb *playbook.Playbook, inv *inventory.Inventory, opts Options) (*Report, error) {
	if inv == nil {
		return nil, errors.New("preflight: no inventory")
	}
	if opts.MinCapacity == 0 {
		opts.MinCapacity = DefaultMinCapacity
	}
	if opts.MinCapacity < 0 || opts.MinCapacity > 1 {
		return nil, fmt.Errorf("preflight: min capacity %v is not between 0 and 1", opts.MinCapacity)
	}
	if opts.Forks <= 0 {
		opts.Forks = runner.DefaultForks
	}
	if opts.LBDrivers == nil {
		opts.LBDrivers = lbmember.Builtin()
	}
	if opts.ReadVersion == nil {
		opts.ReadVersion = installer.ReadInstalled
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	selected, err := limitSet(inv, opts.Limit)
	if err != nil {
		return nil, fmt.Errorf("preflight: %w", err)
	}

	c := &checker{inv: inv, opts: opts, selected: selected, sem: make(chan struct{}, opts.Forks)}
	c.report = &Report{MinCapacity: opts.MinCapacity, Hosts: []*HostReport{}, Zones: []*ZoneReport{},
		Artefacts: []*Artefact{}, Problems: []Problem{}, Notes: []Problem{}}
	c.hostReport = map[*inventory.Host]*HostReport{}
	for _, h := range inv.Hosts {
		if !selected[h] {
			continue
		}
		hr := &HostReport{Name: h.Name, Zone: h.Zone, Split: inv.SplitOf(h), Frontend: h.IsFrontend()}
		c.report.Hosts = append(c.report.Hosts, hr)
		c.hostReport[h] = hr
	}

	c.usesBalancer = usesModule(pb, "lb_member")
	c.checkSplit()
	where := c.planArtefacts(pb)
	for _, h := range inv.Hosts {
		if selected[h] {
			w, upgrading := where[h]
			c.spawn(ctx, "host "+h.Name, func(ctx context.Context) { c.checkHost(ctx, h, w, upgrading) })
		}
	}
	for i, a := range c.report.Artefacts {
		c.spawn(ctx, "installer file "+a.Path, func(ctx context.Context) { c.checkArtefact(ctx, i, a) })
	}
	balancers := c.startBalancers(ctx)
	c.startServiceCenters(ctx)
	c.wg.Wait()
	c.judgeBalancers(balancers)

	c.sortFindings()
	if err := ctx.Err(); err != nil {
		return c.report, fmt.Errorf("preflight: %w", err)
	}
	return c.report, nil
}

// usesModule reports whether the playbook has a task of the module; with
// no playbook, assume it does.
func usesModule(pb *playbook.Playbook, module string) bool {
	if pb == nil {
		return true
	}
	for _, w := range append(append([]*playbook.Wave{}, pb.Waves...), pb.OnFailure...) {
		for _, t := range w.Tasks {
			if t.Module == module {
				return true
			}
		}
	}
	return false
}

// checker is one preflight under way.
type checker struct {
	// usesBalancer: the playbook changes rotation, so every zone needs a
	// load balancer.
	usesBalancer bool
	inv          *inventory.Inventory
	opts         Options
	selected     map[*inventory.Host]bool
	sem          chan struct{}
	wg           sync.WaitGroup
	hostReport   map[*inventory.Host]*HostReport // written only by the host's own check

	mu     sync.Mutex // guards report's Problems, Notes and Artefacts' verdicts
	report *Report
}

// spawn runs check in its own goroutine once a fork is free, under the
// per-check timeout. A check that never gets a fork because ctx ended is
// reported as not done.
func (c *checker) spawn(ctx context.Context, what string, check func(ctx context.Context)) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		select {
		case c.sem <- struct{}{}:
		case <-ctx.Done():
			c.progress(what + ": not checked: " + ctx.Err().Error())
			return
		}
		defer func() { <-c.sem }()
		ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
		defer cancel()
		check(ctx)
	}()
}

func (c *checker) progress(line string) {
	if c.opts.Progress == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opts.Progress(line)
}

// problem records a problem about host h (may be nil) or zone z (may be "").
func (c *checker) problem(check string, h *inventory.Host, zone, what string, why error) {
	c.add(&c.report.Problems, check, h, zone, what, why)
}

func (c *checker) note(check string, h *inventory.Host, zone, what string, why error) {
	c.add(&c.report.Notes, check, h, zone, what, why)
}

func (c *checker) add(list *[]Problem, check string, h *inventory.Host, zone, what string, why error) {
	p := Problem{Check: check, Zone: zone, What: what, rank: -1}
	if why != nil {
		p.Why = why.Error()
	}
	if h != nil {
		p.Host, p.Zone = h.Name, ""
		p.rank = slices.Index(c.inv.Hosts, h)
	} else if zone != "" {
		p.rank = len(c.inv.Hosts) + slices.IndexFunc(c.inv.Zones, func(z *inventory.Zone) bool { return z.Name == zone })
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	*list = append(*list, p)
}

// artefactProblem records a problem about the i-th installer file; files
// sort in the order the playbook names them.
func (c *checker) artefactProblem(i int, what string, why error) {
	p := Problem{Check: CheckArtefact, What: what, Why: why.Error(), rank: i}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.report.Problems = append(c.report.Problems, p)
}

// sortFindings orders problems and notes by check, then by where the host
// or zone is declared, so reports of the same farm compare line by line.
func (c *checker) sortFindings() {
	for _, list := range [][]Problem{c.report.Problems, c.report.Notes} {
		slices.SortStableFunc(list, func(a, b Problem) int {
			if d := checkOrder[a.Check] - checkOrder[b.Check]; d != 0 {
				return d
			}
			if d := a.rank - b.rank; d != 0 {
				return d
			}
			return strings.Compare(a.What, b.What)
		})
	}
}

// limitSet resolves --limit names to hosts, as the runner does; no names
// select every host.
func limitSet(inv *inventory.Inventory, names []string) (map[*inventory.Host]bool, error) {
	set := map[*inventory.Host]bool{}
	if len(names) == 0 {
		for _, h := range inv.Hosts {
			set[h] = true
		}
		return set, nil
	}
	for _, n := range names {
		if h := inv.Host(n); h != nil {
			set[h] = true
			continue
		}
		if g := inv.Group(n); g != nil {
			for _, h := range g.Hosts {
				set[h] = true
			}
			continue
		}
		return nil, fmt.Errorf("limit: the inventory has no host or group named %q", n)
	}
	return set, nil
}

// zoneOf returns the zone named name, or nil.
func (c *checker) zoneOf(name string) *inventory.Zone {
	for _, z := range c.inv.Zones {
		if z.Name == name {
			return z
		}
	}
	return nil
}

func memberName(h *inventory.Host) string {
	if h.Member != "" {
		return h.Member
	}
	return h.Name
}
