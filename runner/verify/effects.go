package verify

import (
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/modules"
)

// maxVariants bounds the combinations of unknown arguments tried; beyond
// it the effect is taken as unknown.
const maxVariants = 64

// effectOf evaluates def.Effects on args in which the parameters named in
// unknown have no value yet. It tries every value those parameters can
// take when there are few (OneOf strings, bools); ok reports that every
// variant gave the same effect. Otherwise eff merges the variants (a task
// is disruptive or upgrading if any variant is; rotation and deployment
// change only when all variants agree) and why says what was not known.
func effectOf(def *modules.Definition, args modules.Args, unknown []string) (eff modules.Effect, ok bool, why string) {
	if def == nil || def.Effects == nil {
		return modules.Effect{}, true, ""
	}
	variants := [][]cty.Value{}
	total := 1
	for _, name := range unknown {
		vs := alternatives(def, name)
		variants = append(variants, vs)
		total *= len(vs)
	}
	if total > maxVariants {
		return modules.Effect{}, false, fmt.Sprintf("its effect depends on %s, not known before the run", argList(unknown))
	}
	var effs []modules.Effect
	for i := range total {
		try := make(modules.Args, len(args))
		for k, v := range args {
			try[k] = v
		}
		n := i
		for j, name := range unknown {
			try[name] = variants[j][n%len(variants[j])]
			n /= len(variants[j])
		}
		e, err := safeEffects(def, try)
		if err != nil && len(unknown) == 0 {
			return modules.Effect{}, false, err.Error()
		}
		if err != nil {
			return modules.Effect{}, false, fmt.Sprintf("its effect depends on %s, not known before the run", argList(unknown))
		}
		effs = append(effs, e)
	}
	eff = effs[0]
	same := true
	for _, e := range effs[1:] {
		if e != eff {
			same = false
		}
		eff.Disruptive = eff.Disruptive || e.Disruptive
		eff.Upgrades = eff.Upgrades || e.Upgrades
		if e.Rotation != eff.Rotation {
			eff.Rotation = ""
		}
		if e.Deployment != eff.Deployment {
			eff.Deployment = ""
		}
	}
	if !same {
		return eff, false, fmt.Sprintf("its effect depends on %s, not known before the run", argList(unknown))
	}
	return eff, true, ""
}

// alternatives lists the values an unknown parameter may take, or the
// unknown value itself when they are too many to try.
func alternatives(def *modules.Definition, name string) []cty.Value {
	p, _ := def.Param(name)
	switch {
	case p.Type == cty.String && len(p.OneOf) > 0:
		vs := make([]cty.Value, len(p.OneOf))
		for i, s := range p.OneOf {
			vs[i] = cty.StringVal(s)
		}
		return vs
	case p.Type == cty.Bool:
		return []cty.Value{cty.True, cty.False}
	}
	return []cty.Value{cty.UnknownVal(p.Type)}
}

// safeEffects calls Effects, turning a panic into an error: the getters of
// modules.Args panic on an unknown value, which is how an Effects that
// needs an argument the plan cannot know shows itself.
func safeEffects(def *modules.Definition, args modules.Args) (eff modules.Effect, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("module %s: effects: %v", def.Name, p)
		}
	}()
	return def.Effects(args), nil
}

func argList(names []string) string {
	if len(names) == 1 {
		return "argument " + names[0]
	}
	return "arguments " + strings.Join(names, ", ")
}
