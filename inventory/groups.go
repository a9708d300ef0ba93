package inventory

import (
	"slices"
	"strings"
)

// userGroups decodes and resolves the group blocks. Members are
// flattened, deduplicated and kept in inventory declaration order.
func (l *loader) userGroups() {
	for _, g := range l.groupList {
		content, diags := g.block.Body.Content(groupSchema)
		l.diags = l.diags.Extend(diags)
		if a := content.Attributes["hosts"]; a != nil {
			g.refs, _ = l.refList(a.Expr, &a.Range, "host", "group")
		}
	}
	for _, g := range l.groupList {
		l.resolveGroup(g, nil)
	}
	for _, g := range l.groupList {
		g.group.Hosts = l.ordered(g.members)
		l.inv.Groups[g.group.Name] = g.group
	}
}

// resolveGroup computes g's members, reporting unknown references and
// cycles. path is the chain of groups being resolved, for the message.
func (l *loader) resolveGroup(g *groupDecl, path []string) map[*Host]bool {
	switch g.state {
	case 2:
		return g.members
	case 1:
		return nil // the caller reports the cycle
	}
	g.state = 1
	path = append(path, g.group.Name)
	g.members = map[*Host]bool{}
	for _, r := range g.refs {
		hosts, ok := l.resolveRef(r, path)
		if !ok {
			continue
		}
		for h := range hosts {
			g.members[h] = true
		}
	}
	g.state = 2
	return g.members
}

// resolveRef returns the hosts a host.X or group.X reference stands for.
// path is non-nil inside a group, where the split groups are not allowed.
func (l *loader) resolveRef(r ref, path []string) (map[*Host]bool, bool) {
	if r.kind == "host" {
		d := l.hosts[r.name]
		if d == nil {
			l.unknown(r, l.hostNames())
			return nil, false
		}
		return map[*Host]bool{d.host: true}, true
	}
	switch r.name {
	case GroupUpdating, GroupLoaded:
		l.errorf(r.rng, r.attrs, "Invalid reference",
			"The %s group is made from the split, which may itself use groups, so it cannot be used here.", r.name)
		return nil, false
	case GroupAll, GroupController, GroupFrontends:
		out := map[*Host]bool{}
		for _, h := range l.inv.Groups[r.name].Hosts {
			out[h] = true
		}
		return out, true
	}
	g := l.groups[r.name]
	if g == nil {
		names := []string{GroupAll, GroupController, GroupFrontends}
		for _, g := range l.groupList {
			names = append(names, g.group.Name)
		}
		l.unknown(r, names)
		return nil, false
	}
	if g.state == 1 {
		i := slices.Index(path, g.group.Name)
		cycle := append(slices.Clone(path[i:]), g.group.Name)
		for j := range cycle {
			cycle[j] = "group." + cycle[j]
		}
		l.errorf(r.rng, r.attrs, "Reference cycle in groups",
			"Groups may contain groups, but not themselves: %s.", strings.Join(cycle, " → "))
		return nil, false
	}
	return l.resolveGroup(g, path), true
}

func (l *loader) hostNames() []string {
	names := make([]string, len(l.hostOrder))
	for i, d := range l.hostOrder {
		names[i] = d.host.Name
	}
	return names
}
