package installer

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/moduletest"
	"github.com/osrun/osrun/transports"
)

// build makes an action the way the loader would: declared params present,
// defaults applied, absent ones null. Strings, bools and []string convert.
func build(t *testing.T, given map[string]any) (modules.Action, error) {
	t.Helper()
	def := Definition(Options{})
	return def.New(moduletest.GoArgs(t, def, given))
}

func mustBuild(t *testing.T, given map[string]any) modules.Action {
	t.Helper()
	a, err := build(t, given)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func password(s string) cty.Value {
	return secret.MarkValue(cty.StringVal(s), `env("OS_ADMIN_PASSWORD")`)
}

type progressLog struct {
	mu    sync.Mutex
	lines []string
}

func (p *progressLog) add(s string) { p.mu.Lock(); p.lines = append(p.lines, s); p.mu.Unlock() }

func (p *progressLog) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

func hostEnv(conn transports.Conn, stack inventory.Stack, controller bool) (*modules.Env, *progressLog) {
	h := &inventory.Host{Name: "fe01", Stack: stack, Roles: []inventory.Role{inventory.RoleFrontend}}
	if controller {
		h.Roles = append(h.Roles, inventory.RoleController)
	}
	p := &progressLog{}
	return &modules.Env{Host: h, Conn: conn, Progress: p.add}, p
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error lacks %q:\n%v", p, err)
		}
	}
}

func TestEffects(t *testing.T) {
	if got := Definition(Options{}).Effects(nil); !got.Disruptive || !got.Upgrades {
		t.Errorf("Effects = %+v", got)
	}
}
