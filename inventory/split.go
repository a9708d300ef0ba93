package inventory

import (
	"github.com/hashicorp/hcl/v2"
)

// The balanced split divides the front-ends of every zone into the
// updating set (upgraded first, with the controller) and the loaded set
// (serving traffic meanwhile, upgraded after). A split is safe only if
// each zone keeps at least one loaded front-end serving while its
// updating front-ends are drained, and has at least one updating
// front-end to switch traffic to afterwards.

func (l *loader) split(blocks []*hcl.Block) {
	if len(blocks) == 0 {
		l.computedSplit()
		return
	}
	l.declaredSplit(blocks[0])
}

// computedSplit puts, per zone, the controller and the first half
// (rounded down) of the other front-ends in updating.
func (l *loader) computedSplit() {
	upd, loaded := map[*Host]bool{}, map[*Host]bool{}
	for _, z := range l.zoneOrder {
		var fe []*Host
		for _, h := range z.zone.Hosts {
			switch {
			case h.HasRole(RoleController):
				upd[h] = true
			case h.IsFrontend():
				fe = append(fe, h)
			}
		}
		half := len(fe) / 2
		for i, h := range fe {
			if i < half {
				upd[h] = true
			} else {
				loaded[h] = true
			}
		}
	}
	l.checkZones(upd, loaded, func(z *zoneDecl, _ string) (hcl.Range, *hcl.Range) {
		return l.zoneSubject(z), nil
	}, "The computed split")
	l.inv.Split = Split{Updating: l.ordered(upd), Loaded: l.ordered(loaded)}
}

func (l *loader) declaredSplit(b *hcl.Block) {
	content, diags := b.Body.Content(splitSchema)
	l.diags = l.diags.Extend(diags)
	ua, la := content.Attributes["updating"], content.Attributes["loaded"]
	if ua == nil || la == nil {
		return
	}
	upd, ok1 := l.splitSet(ua)
	loaded, ok2 := l.splitSet(la)
	if !ok1 || !ok2 {
		return
	}
	ctx := b.DefRange
	bad := false
	for _, h := range l.inv.Hosts {
		uRng, inU := upd[h]
		lRng, inL := loaded[h]
		ctl := h.HasRole(RoleController)
		switch {
		case ctl && inL:
			l.errorf(lRng, &ctx, "Controller in loaded set",
				"Host %q runs the Deployment Controller, which is always upgraded first, so it must be in updating, never in loaded.", h.Name)
		case inU && inL:
			later := lRng
			if uRng.Start.Byte > lRng.Start.Byte {
				later = uRng
			}
			l.errorf(later, &ctx, "Host in both split sets",
				"Host %q is in both updating and loaded; it would be upgraded while it is the one keeping the zone serving.", h.Name)
		case inL && !h.IsFrontend():
			l.errorf(lRng, &ctx, "Non-front-end in loaded set",
				"Host %q is not a front-end, so it cannot keep serving traffic; only front-ends go in loaded.", h.Name)
		case inU && !h.IsFrontend() && !ctl:
			l.errorf(uRng, &ctx, "Non-front-end in updating set",
				"Host %q has no role, so it takes no part in the upgrade; remove it from the split.", h.Name)
		case !inU && !inL && h.IsFrontend():
			l.errorf(h.DeclRange, nil, "Front-end missing from split",
				"Front-end %q is in neither updating nor loaded; a declared split must place every front-end, or it would never be upgraded.", h.Name)
		case !inU && ctl:
			l.errorf(h.DeclRange, nil, "Controller missing from split",
				"Host %q runs the Deployment Controller, which is upgraded first; add it to updating.", h.Name)
		default:
			continue
		}
		bad = true
	}
	if bad {
		return
	}
	updSet, loadedSet := map[*Host]bool{}, map[*Host]bool{}
	for h := range upd {
		updSet[h] = true
	}
	for h := range loaded {
		loadedSet[h] = true
	}
	l.checkZones(updSet, loadedSet, func(_ *zoneDecl, missing string) (hcl.Range, *hcl.Range) {
		if missing == GroupLoaded {
			return la.Expr.Range(), &ctx
		}
		return ua.Expr.Range(), &ctx
	}, "The split")
	l.inv.Split = Split{Updating: l.ordered(updSet), Loaded: l.ordered(loadedSet), Declared: true}
}

// splitSet resolves one side of a declared split, remembering for each
// host the reference that brought it in.
func (l *loader) splitSet(a *hcl.Attribute) (map[*Host]hcl.Range, bool) {
	refs, ok := l.refList(a.Expr, &a.Range, "host", "group")
	out := map[*Host]hcl.Range{}
	for _, r := range refs {
		hosts, good := l.resolveRef(r, nil)
		ok = ok && good
		for _, h := range l.ordered(hosts) {
			if _, seen := out[h]; !seen {
				out[h] = r.rng
			}
		}
	}
	return out, ok
}

// checkZones reports zones that the split would leave without a serving
// front-end during either half of the upgrade.
func (l *loader) checkZones(upd, loaded map[*Host]bool, where func(z *zoneDecl, missing string) (hcl.Range, *hcl.Range), what string) {
	for _, z := range l.zoneOrder {
		var fe, u, lo []*Host
		for _, h := range z.zone.Hosts {
			if !h.IsFrontend() {
				continue
			}
			fe = append(fe, h)
			if upd[h] {
				u = append(u, h)
			}
			if loaded[h] {
				lo = append(lo, h)
			}
		}
		if len(fe) == 0 {
			continue
		}
		if len(lo) == 0 {
			rng, ctx := where(z, GroupLoaded)
			l.errorf(rng, ctx, "Zone without loaded front-end",
				"%s leaves zone %q with no loaded front-end (its front-ends: %s), so the zone would serve nothing while updating is drained and upgraded. A zone needs at least two front-ends, one in each set.",
				what, z.zone.Name, hostNames(fe))
		}
		if len(u) == 0 {
			rng, ctx := where(z, GroupUpdating)
			l.errorf(rng, ctx, "Zone without updating front-end",
				"%s leaves zone %q with no updating front-end (its front-ends: %s), so there would be no upgraded front-end to switch its traffic to before loaded is upgraded. A zone needs at least two front-ends, one in each set.",
				what, z.zone.Name, hostNames(fe))
		}
	}
}
