package labtest

import (
	"strings"
	"sync"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/transports"
)

// Action builds def's action from given the way the loader does: declared
// parameters present, defaults applied, absent ones null. Values may be
// string, bool, []string or cty.Value.
func Action(t testing.TB, def *modules.Definition, given map[string]any) modules.Action {
	t.Helper()
	args := modules.Args{}
	for _, p := range def.Params {
		v, ok := given[p.Name]
		switch {
		case !ok && p.Default != cty.NilVal:
			args[p.Name] = p.Default
		case !ok:
			args[p.Name] = cty.NullVal(p.Type)
		default:
			switch v := v.(type) {
			case string:
				args[p.Name] = cty.StringVal(v)
			case bool:
				args[p.Name] = cty.BoolVal(v)
			case []string:
				var l []cty.Value
				for _, s := range v {
					l = append(l, cty.StringVal(s))
				}
				args[p.Name] = cty.ListVal(l)
			case cty.Value:
				args[p.Name] = v
			default:
				t.Fatalf("argument %s: unsupported Go type %T", p.Name, v)
			}
		}
	}
	for name := range given {
		if _, ok := args[name]; !ok {
			t.Fatalf("module %s has no parameter %s", def.Name, name)
		}
	}
	a, err := def.New(args)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Progress collects progress lines; safe for concurrent use.
type Progress struct {
	mu    sync.Mutex
	lines []string
}

// Add records a line.
func (p *Progress) Add(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines = append(p.lines, s)
}

// String returns the lines so far, one per line.
func (p *Progress) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// Env is the environment of a task running on h over conn.
func Env(h *inventory.Host, conn transports.Conn) (*modules.Env, *Progress) {
	p := &Progress{}
	return &modules.Env{Host: h, Conn: conn, Progress: p.Add}, p
}
