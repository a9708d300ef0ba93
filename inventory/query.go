package inventory

import (
	"github.com/zclconf/go-cty/cty"
)

// Host returns the host named name, or nil.
func (inv *Inventory) Host(name string) *Host {
	for _, h := range inv.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// Group returns the user or built-in group named name, or nil.
func (inv *Inventory) Group(name string) *Group {
	return inv.Groups[name]
}

// SplitOf returns "updating" or "loaded" for a host of the split, and ""
// for a host outside it.
func (inv *Inventory) SplitOf(h *Host) string {
	for _, x := range inv.Split.Updating {
		if x == h {
			return GroupUpdating
		}
	}
	for _, x := range inv.Split.Loaded {
		if x == h {
			return GroupLoaded
		}
	}
	return ""
}

// HostValue is the object playbooks see as host: name, address, zone,
// stack, roles, member, transport, split, controller and vars.
func (inv *Inventory) HostValue(h *Host) cty.Value {
	roles := make([]cty.Value, len(h.Roles))
	for i, r := range h.Roles {
		roles[i] = cty.StringVal(string(r))
	}
	rolesVal := cty.ListValEmpty(cty.String)
	if len(roles) > 0 {
		rolesVal = cty.ListVal(roles)
	}
	vars := cty.EmptyObjectVal
	if len(h.Vars) > 0 {
		vars = cty.ObjectVal(h.Vars)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"name":       cty.StringVal(h.Name),
		"address":    cty.StringVal(h.Address),
		"zone":       cty.StringVal(h.Zone),
		"stack":      cty.StringVal(string(h.Stack)),
		"roles":      rolesVal,
		"member":     cty.StringVal(h.Member),
		"transport":  cty.StringVal(h.Transport),
		"split":      cty.StringVal(inv.SplitOf(h)),
		"controller": cty.BoolVal(h.HasRole(RoleController)),
		"vars":       vars,
	})
}
