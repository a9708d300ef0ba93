package moduletest

import (
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/modules"
)

// Args builds a task's arguments as the loader hands them to def.New:
// every declared parameter, null or its default, then args on top. An
// argument def does not declare fails the test, as the loader would refuse
// the task.
func Args(t testing.TB, def *modules.Definition, args map[string]cty.Value) modules.Args {
	t.Helper()
	a := make(modules.Args, len(def.Params))
	for _, p := range def.Params {
		a[p.Name] = cty.NullVal(p.Type)
		if p.Default != cty.NilVal {
			a[p.Name] = p.Default
		}
	}
	for k, v := range args {
		if _, ok := def.Param(k); !ok {
			t.Fatalf("argument %s is not declared", k)
		}
		a[k] = v
	}
	return a
}

// GoArgs is Args for arguments written as Go values: string, bool,
// []string, or a cty.Value for anything else.
func GoArgs(t testing.TB, def *modules.Definition, given map[string]any) modules.Args {
	t.Helper()
	vals := make(map[string]cty.Value, len(given))
	for name, v := range given {
		switch v := v.(type) {
		case string:
			vals[name] = cty.StringVal(v)
		case bool:
			vals[name] = cty.BoolVal(v)
		case []string:
			l := make([]cty.Value, len(v))
			for i, s := range v {
				l[i] = cty.StringVal(s)
			}
			vals[name] = cty.ListVal(l)
		case cty.Value:
			vals[name] = v
		default:
			t.Fatalf("argument %s: unsupported Go type %T", name, v)
		}
	}
	return Args(t, def, vals)
}
