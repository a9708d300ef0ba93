package verify

import (
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/modules"
)

func TestEffectOf(t *testing.T) {
	params := []modules.Param{
		{Name: "state", Type: cty.String, OneOf: []string{"enabled", "drained", "disabled"}},
		{Name: "force", Type: cty.Bool},
		{Name: "name", Type: cty.String},
	}
	byState := func(a modules.Args) modules.Effect {
		if a.String("state") == "enabled" {
			return modules.Effect{Rotation: modules.RotationIn}
		}
		return modules.Effect{Rotation: modules.RotationOut}
	}
	tests := []struct {
		name    string
		effects func(modules.Args) modules.Effect
		args    modules.Args
		unknown []string
		want    modules.Effect
		ok      bool
	}{
		{"no Effects", nil, nil, nil, modules.Effect{}, true},
		{"known arguments", byState,
			modules.Args{"state": cty.StringVal("disabled"), "force": cty.False, "name": cty.NullVal(cty.String)}, nil,
			modules.Effect{Rotation: modules.RotationOut}, true},
		{"an unknown argument the effect ignores",
			func(modules.Args) modules.Effect { return modules.Effect{Disruptive: true, Upgrades: true} },
			modules.Args{"state": cty.UnknownVal(cty.String), "force": cty.False, "name": cty.UnknownVal(cty.String)}, []string{"state", "name"},
			modules.Effect{Disruptive: true, Upgrades: true}, true},
		{"one of values with different effects", byState,
			modules.Args{"state": cty.UnknownVal(cty.String), "force": cty.False, "name": cty.NullVal(cty.String)}, []string{"state"},
			modules.Effect{}, false},
		{"a bool that makes the task disruptive",
			func(a modules.Args) modules.Effect { return modules.Effect{Disruptive: a.Bool("force")} },
			modules.Args{"state": cty.NullVal(cty.String), "force": cty.UnknownVal(cty.Bool), "name": cty.NullVal(cty.String)}, []string{"force"},
			modules.Effect{Disruptive: true}, false},
		{"an unknown free-form argument the effect reads",
			func(a modules.Args) modules.Effect { return modules.Effect{Disruptive: a.String("name") == "W3SVC"} },
			modules.Args{"state": cty.NullVal(cty.String), "force": cty.False, "name": cty.UnknownVal(cty.String)}, []string{"name"},
			modules.Effect{}, false},
		{"an Effects that panics on known arguments",
			func(modules.Args) modules.Effect { panic("bug") },
			modules.Args{"state": cty.NullVal(cty.String), "force": cty.False, "name": cty.NullVal(cty.String)}, nil,
			modules.Effect{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			def := &modules.Definition{Name: "m", Params: params, Effects: tc.effects}
			got, ok, why := effectOf(def, tc.args, tc.unknown)
			if got != tc.want || ok != tc.ok {
				t.Errorf("effectOf = %+v, %v (%s), want %+v, %v", got, ok, why, tc.want, tc.ok)
			}
			if !ok && why == "" {
				t.Error("no reason given for an effect not known")
			}
		})
	}
}
