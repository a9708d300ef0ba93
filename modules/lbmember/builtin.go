package lbmember

import (
	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules/lbmember/command"
	"github.com/osrun/osrun/modules/lbmember/dataplane"
	"github.com/osrun/osrun/modules/lbmember/f5"
	"github.com/osrun/osrun/modules/lbmember/haproxy"
	"github.com/osrun/osrun/modules/lbmember/netscaler"
	"github.com/osrun/osrun/modules/lbmember/nginxplus"
	"github.com/osrun/osrun/modules/lbmember/windowsnlb"
)

// Builtin returns the drivers osrun ships, keyed by the driver name of a
// load_balancer block. Drivers not listed here are not finished.
func Builtin() *Registry {
	r := NewRegistry()
	for name, f := range map[string]Factory{
		"haproxy":           func(ep *inventory.Endpoint) (Driver, error) { return haproxy.FromEndpoint(ep) },
		"haproxy_dataplane": func(ep *inventory.Endpoint) (Driver, error) { return dataplane.FromEndpoint(ep) },
		"command":           func(ep *inventory.Endpoint) (Driver, error) { return command.FromEndpoint(ep) },
		"nginx_plus":        func(ep *inventory.Endpoint) (Driver, error) { return nginxplus.FromEndpoint(ep) },
		"f5":                func(ep *inventory.Endpoint) (Driver, error) { return f5.FromEndpoint(ep) },
		"netscaler":         func(ep *inventory.Endpoint) (Driver, error) { return netscaler.FromEndpoint(ep) },
		"windows_nlb":       func(ep *inventory.Endpoint) (Driver, error) { return windowsnlb.FromEndpoint(ep) },
	} {
		if err := r.Register(name, f); err != nil {
			panic(err) // the names above are distinct
		}
	}
	return r
}
