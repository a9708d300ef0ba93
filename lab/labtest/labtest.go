package labtest

import (
	"strings"
	"sync"
	"testing"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/moduletest"
	"github.com/osrun/osrun/transports"
)

// Action builds def's action from given the way the loader does: declared
// parameters present, defaults applied, absent ones null. Values may be
// string, bool, []string or cty.Value.
func Action(t testing.TB, def *modules.Definition, given map[string]any) modules.Action {
	t.Helper()
	a, err := def.New(moduletest.GoArgs(t, def, given))
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
