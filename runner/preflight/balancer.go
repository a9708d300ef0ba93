package preflight

import (
	"context"
	"fmt"
	"strings"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules/lbmember/member"
)

// pool is what one load balancer reported; written by its own check and
// read after every check ended.
type pool struct {
	ep      *inventory.Endpoint
	name    string // Driver.Pool
	members []member.Status
	read    bool // Members answered
}

// startBalancers lists each zone that has a selected front-end, and starts
// reading the pool of each load balancer those zones use, once per
// balancer whatever the number of zones sharing it.
func (c *checker) startBalancers(ctx context.Context) map[string]*pool {
	pools := map[string]*pool{}
	var order []string            // balancer names, first use first
	byLB := map[string][]string{} // balancer name → its zones, for messages
	for _, z := range c.inv.Zones {
		if !c.hasSelectedFrontend(z) {
			continue
		}
		zr := &ZoneReport{Name: z.Name, LoadBalancer: z.LoadBalancer, ServiceCenter: z.ServiceCenter}
		for _, h := range z.Hosts {
			if h.IsFrontend() {
				zr.Frontends++
			}
		}
		c.report.Zones = append(c.report.Zones, zr)
		ep, ok := c.inv.LoadBalancers[z.LoadBalancer]
		if (z.LoadBalancer == "" || !ok) && !c.usesBalancer {
			// A playbook that never touches rotation does not need one.
			c.note(CheckLoadBalancer, nil, z.Name, "no load balancer", fmt.Errorf("zone %s names no load_balancer; the playbook has no lb_member task", z.Name))
			continue
		}
		if z.LoadBalancer == "" || !ok {
			c.problem(CheckLoadBalancer, nil, z.Name, "no load balancer", fmt.Errorf("zone %s names no load_balancer, so its front-ends cannot be drained", z.Name))
			continue
		}
		if _, seen := byLB[ep.Name]; !seen {
			order = append(order, ep.Name)
			pools[ep.Name] = &pool{ep: ep}
		}
		byLB[ep.Name] = append(byLB[ep.Name], z.Name)
	}
	for _, name := range order {
		p := pools[name]
		zoneNames := strings.Join(byLB[name], ", ")
		c.spawn(ctx, "load balancer "+name, func(ctx context.Context) {
			d, err := c.opts.LBDrivers.Open(p.ep)
			if err == nil {
				p.name = d.Pool()
				p.members, err = d.Members(ctx)
				if err != nil {
					err = fmt.Errorf("load balancer %s: %w", name, err)
				}
			}
			if err != nil {
				c.problem(CheckLoadBalancer, nil, zoneNames, "load balancer unreachable", err)
				c.progress("load balancer " + name + ": unreachable")
				return
			}
			p.read = true
			c.progress(fmt.Sprintf("load balancer %s: %d members in %s", name, len(p.members), p.name))
		})
	}
	return pools
}

func (c *checker) hasSelectedFrontend(z *inventory.Zone) bool {
	for _, h := range z.Hosts {
		if h.IsFrontend() && c.selected[h] {
			return true
		}
	}
	return false
}

// judgeBalancers finds each front-end of the checked zones in its pool,
// reports selected ones missing or unhealthy, and checks each zone's
// capacity. It runs once every check has ended.
func (c *checker) judgeBalancers(pools map[string]*pool) {
	loaded := map[*inventory.Host]bool{}
	for _, h := range c.inv.Split.Loaded {
		loaded[h] = true
	}
	for _, zr := range c.report.Zones {
		z := c.zoneOf(zr.Name)
		p := pools[zr.LoadBalancer]
		if z == nil || p == nil || !p.read {
			continue
		}
		zr.Checked = true
		for _, h := range z.Hosts {
			if !h.IsFrontend() {
				continue
			}
			m := &Member{LoadBalancer: p.ep.Name, Pool: p.name, Name: memberName(h)}
			for _, st := range p.members {
				if st.Name == m.Name {
					m.Found, m.State, m.Healthy, m.InRotation = true, string(st.State), st.Healthy, st.InRotation()
					m.Sessions, m.Detail = st.Sessions, st.Detail
					break
				}
			}
			if m.InRotation {
				zr.InRotation++
				if loaded[h] {
					zr.LoadedInRotation++
				}
			}
			if !c.selected[h] {
				continue
			}
			c.hostReport[h].Member = m
			switch {
			case !m.Found:
				c.problem(CheckLoadBalancer, h, "", "not in the pool", fmt.Errorf("%s has no member %q (set member in the host block to the balancer's name for it)", p.name, m.Name))
			case c.opts.Resuming && m.State != string(member.Enabled):
				c.note(CheckLoadBalancer, h, "", "out of rotation, as the interrupted run may have left it", fmt.Errorf("member %s of %s is %s (%s)", m.Name, p.name, m.State, m.Detail))
			case !m.Healthy && c.opts.Resuming:
				// The interrupted run may have just put it back: its health
				// check has not passed yet, and lb_member waits for it.
				c.note(CheckLoadBalancer, h, "", "not healthy yet, as the interrupted run may have left it", fmt.Errorf("member %s of %s is %s (%s)", m.Name, p.name, m.State, m.Detail))
			case !m.Healthy:
				c.problem(CheckLoadBalancer, h, "", "unhealthy", fmt.Errorf("member %s of %s is %s (%s) and its health check does not pass", m.Name, p.name, m.State, m.Detail))
			case m.State != string(member.Enabled):
				c.note(CheckLoadBalancer, h, "", "out of rotation before the run", fmt.Errorf("member %s of %s is %s (%s); the playbook will put it back", m.Name, p.name, m.State, m.Detail))
			}
		}
		c.judgeCapacity(zr)
	}
}

// judgeCapacity checks that the zone's loaded set can carry its traffic
// while the updating set is drained and upgraded.
func (c *checker) judgeCapacity(zr *ZoneReport) {
	if zr.InRotation == 0 {
		c.problem(CheckCapacity, nil, zr.Name, "no front-end in rotation", fmt.Errorf("none of the zone's %d front-ends is enabled and healthy in load balancer %s", zr.Frontends, zr.LoadBalancer))
		return
	}
	zr.Capacity = float64(zr.LoadedInRotation) / float64(zr.InRotation)
	if c.opts.Resuming {
		// Mid-procedure the loaded set may rightly be drained while the
		// upgraded updating set serves; the zone serving is what counts.
		return
	}
	// A tiny tolerance: 1 of 2 is exactly 0.5 and must pass a 0.5 minimum
	// whatever the float rounding of a configured value.
	if zr.Capacity+1e-9 < c.opts.MinCapacity {
		c.problem(CheckCapacity, nil, zr.Name, "loaded set below minimum capacity",
			fmt.Errorf("%d of the %d front-ends in rotation are loaded (%.0f%%), at least %.0f%% must be to carry the zone while updating is upgraded",
				zr.LoadedInRotation, zr.InRotation, 100*zr.Capacity, 100*c.opts.MinCapacity))
	}
}
