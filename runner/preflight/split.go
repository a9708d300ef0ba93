package preflight

import (
	"errors"
	"fmt"

	"github.com/osrun/osrun/inventory"
)

// checkSplit re-asserts what the inventory loader guarantees of the split,
// because an inventory built in code (or a loader bug) would otherwise
// reach the first drain unchecked: the controller updating, no host in
// both sets, every front-end in one, only front-ends loaded, and every
// zone with front-ends keeping one in each set.
func (c *checker) checkSplit() {
	upd, loaded := map[*inventory.Host]bool{}, map[*inventory.Host]bool{}
	for _, h := range c.inv.Split.Updating {
		upd[h] = true
	}
	for _, h := range c.inv.Split.Loaded {
		loaded[h] = true
	}
	controllers := 0
	for _, h := range c.inv.Hosts {
		ctl := h.HasRole(inventory.RoleController)
		if ctl {
			controllers++
		}
		var why string
		switch {
		case upd[h] && loaded[h]:
			why = "it is in both updating and loaded"
		case ctl && !upd[h]:
			why = "it runs the Deployment Controller and is not in updating"
		case h.IsFrontend() && !upd[h] && !loaded[h]:
			why = "it is a front-end in neither updating nor loaded"
		case loaded[h] && !h.IsFrontend():
			why = "it is in loaded but is not a front-end"
		default:
			continue
		}
		c.problem(CheckSplit, h, "", "split invalid", errors.New(why))
	}
	if controllers != 1 {
		c.problem(CheckSplit, nil, "", "split invalid", fmt.Errorf("%d hosts have the controller role, want exactly 1", controllers))
	}
	for _, z := range c.inv.Zones {
		var fe, u, l int
		for _, h := range z.Hosts {
			if !h.IsFrontend() {
				continue
			}
			fe++
			if upd[h] {
				u++
			}
			if loaded[h] {
				l++
			}
		}
		if fe == 0 {
			continue
		}
		if u == 0 || l == 0 {
			c.problem(CheckSplit, nil, z.Name, "split invalid", fmt.Errorf("of its %d front-ends %d are updating and %d loaded; each set needs at least one", fe, u, l))
		}
	}
}
