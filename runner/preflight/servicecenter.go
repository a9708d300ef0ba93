package preflight

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules/scfrontend/scapi"
)

// Deployment values of HostReport.
const (
	DeploymentEnabled  = "enabled"
	DeploymentDisabled = "disabled"
	DeploymentManual   = "manual, not checked"
)

// startServiceCenters groups the selected front-ends by the Service
// Center their zone uses and starts one check per Service Center.
func (c *checker) startServiceCenters(ctx context.Context) {
	if len(c.inv.ServiceCenters) == 0 {
		if c.anySelectedFrontend() {
			c.note(CheckServiceCenter, nil, "", "no service_center in the inventory: deployment not checked", nil)
		}
		return
	}
	var order []*inventory.Endpoint
	byEP := map[*inventory.Endpoint][]*inventory.Host{}
	failed := map[string]bool{} // zones already reported
	for _, h := range c.inv.Hosts {
		if !h.IsFrontend() || !c.selected[h] {
			continue
		}
		ep, err := scapi.Resolve(c.inv, h, "")
		if err != nil {
			if !failed[h.Zone] {
				failed[h.Zone] = true
				c.problem(CheckServiceCenter, nil, h.Zone, "no Service Center", err)
			}
			continue
		}
		if _, seen := byEP[ep]; !seen {
			order = append(order, ep)
		}
		byEP[ep] = append(byEP[ep], h)
	}
	for _, ep := range order {
		hosts := byEP[ep]
		c.spawn(ctx, "service_center "+ep.Name, func(ctx context.Context) { c.checkServiceCenter(ctx, ep, hosts) })
	}
}

func (c *checker) anySelectedFrontend() bool {
	for h := range c.selected {
		if h.IsFrontend() {
			return true
		}
	}
	return false
}

// checkServiceCenter reads the deployment state of each front-end in
// turn. Service Center has no health endpoint in the contract, so the
// first read is the reachability test: an answer that is not "no such
// front-end" (404) stops the check with one problem for the endpoint
// rather than one per front-end.
func (c *checker) checkServiceCenter(ctx context.Context, ep *inventory.Endpoint, hosts []*inventory.Host) {
	zones := zoneList(hosts)
	switch ep.Driver {
	case "manual":
		if _, err := scapi.DecodeManual(ep.Settings); err != nil {
			c.problem(CheckServiceCenter, nil, zones, "service_center "+ep.Name, err)
			return
		}
		for _, h := range hosts {
			c.hostReport[h].Deployment = DeploymentManual
		}
		c.note(CheckServiceCenter, nil, zones, fmt.Sprintf("service_center %s: manual driver, not checked", ep.Name), nil)
		c.progress("service_center " + ep.Name + ": manual, not checked")
		return
	case "http":
	default:
		c.problem(CheckServiceCenter, nil, zones, "service_center "+ep.Name, fmt.Errorf("driver %q is not http or manual", ep.Driver))
		return
	}
	client, err := scapi.New(ep, scapi.Options{Transport: c.opts.SCTransport})
	if err != nil {
		c.problem(CheckServiceCenter, nil, zones, "service_center "+ep.Name, err)
		return
	}
	defer client.Close()
	known := 0
	for _, h := range hosts {
		enabled, err := client.Deployment(ctx, h.Name)
		var se *scapi.StatusError
		switch {
		case errors.As(err, &se) && se.Status == http.StatusNotFound:
			c.problem(CheckServiceCenter, h, "", "unknown to Service Center", err)
			continue
		case err != nil:
			c.problem(CheckServiceCenter, nil, zones, "Service Center unreachable", err)
			c.progress("service_center " + ep.Name + ": unreachable")
			return
		case enabled:
			c.hostReport[h].Deployment = DeploymentEnabled
		default:
			c.hostReport[h].Deployment = DeploymentDisabled
			c.note(CheckServiceCenter, h, "", "deployment disabled before the run", fmt.Errorf("service_center %s; the playbook decides whether to enable it", ep.Name))
		}
		known++
	}
	c.progress(fmt.Sprintf("service_center %s: %d of %d front-ends known", ep.Name, known, len(hosts)))
}

// zoneList names the zones of hosts, in order, for an endpoint's problem.
func zoneList(hosts []*inventory.Host) string {
	var out string
	seen := map[string]bool{}
	for _, h := range hosts {
		if seen[h.Zone] {
			continue
		}
		seen[h.Zone] = true
		if out != "" {
			out += ", "
		}
		out += h.Zone
	}
	return out
}
