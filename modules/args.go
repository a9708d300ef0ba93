package modules

import (
	"fmt"
	"time"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/osrun/osrun/inventory/secret"
)

// Args are a task's arguments, evaluated for one host and converted to the
// types its Params declare. Absent optional arguments without a default are
// cty.NullVal of their type. The getters panic only on programmer error (a
// name the module did not declare with that type).
type Args map[string]cty.Value

func (a Args) get(name string) cty.Value {
	v, ok := a[name]
	if !ok {
		panic(fmt.Sprintf("modules: argument %q was not declared", name))
	}
	v, _ = v.Unmark()
	return v
}

// Has reports whether the argument was given or has a default.
func (a Args) Has(name string) bool {
	v, ok := a[name]
	return ok && !v.IsNull()
}

// String returns a string argument, "" when null.
func (a Args) String(name string) string {
	v := a.get(name)
	if v.IsNull() {
		return ""
	}
	return v.AsString()
}

// Bool returns a bool argument, false when null.
func (a Args) Bool(name string) bool {
	v := a.get(name)
	return !v.IsNull() && v.True()
}

// Int returns a number argument as int, 0 when null.
func (a Args) Int(name string) int {
	v := a.get(name)
	if v.IsNull() {
		return 0
	}
	var n int
	if err := gocty.FromCtyValue(v, &n); err != nil {
		panic(fmt.Sprintf("modules: argument %q: %v", name, err))
	}
	return n
}

// StringList returns a list(string) argument, nil when null.
func (a Args) StringList(name string) []string {
	v := a.get(name)
	if v.IsNull() {
		return nil
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		e, _ = e.Unmark()
		out = append(out, e.AsString())
	}
	return out
}

// Duration parses a string argument such as "5m" or "90s"; 0 when null.
func (a Args) Duration(name string) (time.Duration, error) {
	s := a.String(name)
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("argument %s: %q is not a duration (try \"30s\" or \"5m\")", name, s)
	}
	return d, nil
}

// Secret returns a secret argument, zero when null. The loader has already
// refused literals for Params marked Secret.
func (a Args) Secret(name string) secret.Value {
	raw, ok := a[name]
	if !ok {
		panic(fmt.Sprintf("modules: argument %q was not declared", name))
	}
	s, _ := secret.FromCty(raw)
	return s
}
