package command_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules/lbmember/command"
	"github.com/osrun/osrun/modules/lbmember/lbtest"
	"github.com/osrun/osrun/modules/lbmember/member"
)

// shellPool is a "balancer" kept in files, driven by the kind of shell
// commands an operator writes: DIR/<member>.state, .sessions, .health.
type shellPool struct {
	dir   string
	names []string
	mu    sync.Mutex
}

func newShellPool(t *testing.T, names ...string) *shellPool {
	p := &shellPool{dir: t.TempDir(), names: names}
	for _, n := range names {
		p.write(t, n, "state", "enabled")
		p.write(t, n, "sessions", "0")
		p.write(t, n, "health", "true")
	}
	return p
}

func (p *shellPool) write(t *testing.T, name, what, v string) {
	path := filepath.Join(p.dir, name+"."+what)
	if err := os.WriteFile(path+".go", []byte(v+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".go", path); err != nil {
		t.Fatal(err)
	}
}

func (p *shellPool) addSessions(t *testing.T, name string, delta int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, err := os.ReadFile(filepath.Join(p.dir, name+".sessions"))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	p.write(t, name, "sessions", strconv.Itoa(max(0, n+delta)))
}

func (p *shellPool) settings() map[string]cty.Value {
	d := p.dir
	guard := "test -f " + d + "/{{.Member}}.state || exit 3; "
	// Write then rename, so a concurrent status never reads a half-written file.
	set := func(st string) cty.Value {
		return cty.StringVal(guard + "echo " + st + " > " + d + "/{{.Member}}.state.$$ && mv " + d + "/{{.Member}}.state.$$ " + d + "/{{.Member}}.state")
	}
	return map[string]cty.Value{
		"pool":    cty.StringVal("web"),
		"enable":  set("enabled"),
		"drain":   set("drained"),
		"disable": set("disabled"),
		"status": cty.StringVal(guard + `printf '{"state":"%s","sessions":%s,"healthy":%s}' ` +
			`"$(cat ` + d + `/{{.Member}}.state)" "$(cat ` + d + `/{{.Member}}.sessions)" "$(cat ` + d + `/{{.Member}}.health)"`),
		"members": cty.StringVal(`for m in ` + strings.Join(p.names, " ") + `; do printf '{"name":"%s","state":"%s","sessions":%s,"healthy":%s}\n' ` +
			`$m "$(cat ` + d + `/$m.state)" "$(cat ` + d + `/$m.sessions)" "$(cat ` + d + `/$m.health)"; done`),
		"kill": cty.StringVal(guard + "echo 0 > " + d + "/{{.Member}}.sessions.$$ && mv " + d + "/{{.Member}}.sessions.$$ " + d + "/{{.Member}}.sessions"),
	}
}

func open(t *testing.T, settings map[string]cty.Value) *command.Driver {
	t.Helper()
	d, err := command.FromEndpoint(&inventory.Endpoint{Name: "lb1", Driver: "command", Settings: settings})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCommandConforms(t *testing.T) {
	lbtest.Run(t, func(t *testing.T) *lbtest.Harness {
		p := newShellPool(t, "fe01", "fe02", "fe03")
		return &lbtest.Harness{
			Driver:  open(t, p.settings()),
			Members: p.names,
			Hold: func(t *testing.T, name string) func() {
				p.addSessions(t, name, 1)
				var once sync.Once
				return func() { once.Do(func() { p.addSessions(t, name, -1) }) }
			},
			SetHealthy: func(t *testing.T, name string, ok bool) { p.write(t, name, "health", strconv.FormatBool(ok)) },
		}
	})
}

func TestMemberNameCannotInject(t *testing.T) {
	p := newShellPool(t, "fe01")
	d := open(t, p.settings())
	evil := "fe01'; touch " + p.dir + "/pwned; echo '"
	err := d.SetState(t.Context(), evil, member.Drained)
	if !errors.Is(err, member.ErrNotFound) {
		t.Errorf("SetState(evil) = %v, want not found", err)
	}
	if _, err := os.Stat(filepath.Join(p.dir, "pwned")); err == nil {
		t.Fatal("the member name ran as a command")
	}
}

func TestEnvironment(t *testing.T) {
	out := filepath.Join(t.TempDir(), "env")
	d := open(t, map[string]cty.Value{
		"enable":  cty.StringVal(`echo "$OSRUN_POOL $OSRUN_MEMBER $OSRUN_STATE" {{.Pool}} {{.Member}} {{.State}} > ` + out),
		"drain":   cty.StringVal("true"),
		"disable": cty.StringVal("true"),
		"status":  cty.StringVal(`echo '{"state":"enabled"}'`),
	})
	if err := d.SetState(t.Context(), "fe 01", member.Enabled); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	if got, want := strings.TrimSpace(string(b)), "lb1 fe 01 enabled lb1 fe 01 enabled"; got != want {
		t.Errorf("the command saw %q, want %q", got, want)
	}
	st, err := d.Status(t.Context(), "fe 01")
	if err != nil || !st.Healthy || st.State != member.Enabled || st.Name != "fe 01" {
		t.Errorf("Status = %+v, %v; healthy should default to true", st, err)
	}
}

func TestCommandErrors(t *testing.T) {
	base := map[string]cty.Value{
		"enable":  cty.StringVal("echo 'balancer said no' >&2; exit 1"),
		"drain":   cty.StringVal("sleep 5"),
		"disable": cty.StringVal("true"),
		"status":  cty.StringVal("echo not json"),
		"timeout": cty.StringVal("100ms"),
	}
	d := open(t, base)
	tests := []struct {
		name string
		do   func() error
		want string
		is   error
	}{
		{"exit status and stderr", func() error { return d.SetState(t.Context(), "fe01", member.Enabled) },
			"pool lb1: command enable for fe01: exit status 1: balancer said no", nil},
		{"timeout", func() error { return d.SetState(t.Context(), "fe01", member.Drained) },
			"command drain for fe01: context deadline exceeded", nil},
		{"bad json", func() error { _, err := d.Status(t.Context(), "fe01"); return err },
			`command status for fe01 printed "not json", want a JSON object`, nil},
		{"no members command", func() error { _, err := d.Members(t.Context()); return err },
			"no members command configured", member.ErrUnsupported},
		{"no kill command", func() error { return d.KillSessions(t.Context(), "fe01") },
			"no kill command configured", member.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			lbtest.WantError(t, err, tt.want, tt.is)
		})
	}
}

func TestFromEndpointErrors(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]cty.Value
		want     string
	}{
		{"missing", map[string]cty.Value{"enable": cty.StringVal("x")}, "setting drain: is required"},
		{"bad template", map[string]cty.Value{"enable": cty.StringVal("x {{.Member"), "drain": cty.StringVal("x"),
			"disable": cty.StringVal("x"), "status": cty.StringVal("x")}, "command enable: template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := command.FromEndpoint(&inventory.Endpoint{Name: "lb1", Driver: "command", Settings: tt.settings})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}
