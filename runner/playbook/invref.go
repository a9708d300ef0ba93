package playbook

import (
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/osrun/osrun/inventory"
)

// The inventory lookups the playbook needs, in one place.

func lookupGroup(inv *inventory.Inventory, name string) *inventory.Group {
	return inv.Group(name)
}

func lookupHost(inv *inventory.Inventory, name string) *inventory.Host {
	return inv.Host(name)
}

func groupNames(inv *inventory.Inventory) []string {
	names := make([]string, 0, len(inv.Groups))
	for n := range inv.Groups {
		names = append(names, n)
	}
	return names
}

func hostNames(inv *inventory.Inventory) []string {
	names := make([]string, 0, len(inv.Hosts))
	for _, h := range inv.Hosts {
		names = append(names, h.Name)
	}
	return names
}

func hostValue(inv *inventory.Inventory, h *inventory.Host) cty.Value {
	return inv.HostValue(h)
}

func functionsFor(baseDir string) map[string]function.Function {
	return inventory.Functions(baseDir)
}
