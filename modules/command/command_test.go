package command

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/transports/local"
)

func newAction(t *testing.T, args map[string]cty.Value) modules.Action {
	t.Helper()
	def := Definition()
	full := modules.Args{}
	for _, p := range def.Params {
		v, ok := args[p.Name]
		switch {
		case ok:
			full[p.Name] = v
		case p.Default != cty.NilVal:
			full[p.Name] = p.Default
		default:
			full[p.Name] = cty.NullVal(p.Type)
		}
	}
	a, err := def.New(full)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestCommandGuardsAndCheckMode(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "done")
	env := &modules.Env{Conn: &local.Conn{Dir: dir}}
	a := newAction(t, map[string]cty.Value{
		"command": cty.StringVal("echo hello; touch " + marker),
		"creates": cty.StringVal(marker),
	})

	res, err := a.Check(t.Context(), env)
	if err != nil || !res.Changed {
		t.Fatalf("Check before: changed=%v err=%v, want a predicted change", res.Changed, err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("Check ran the command")
	}

	res, err = a.Apply(t.Context(), env)
	if err != nil || !res.Changed {
		t.Fatalf("first Apply: changed=%v err=%v", res.Changed, err)
	}
	if got := res.Output["stdout"].AsString(); got != "hello\n" {
		t.Errorf("stdout = %q", got)
	}

	for name, run := range map[string]func() (modules.Result, error){
		"second Apply": func() (modules.Result, error) { return a.Apply(t.Context(), env) },
		"Check after":  func() (modules.Result, error) { return a.Check(t.Context(), env) },
	} {
		res, err := run()
		if err != nil || res.Changed {
			t.Errorf("%s: changed=%v err=%v, want no change", name, res.Changed, err)
		}
	}
}

func TestCommandRemovesGuard(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "old.log")
	env := &modules.Env{Conn: &local.Conn{Dir: dir}}
	a := newAction(t, map[string]cty.Value{
		"command": cty.StringVal("rm " + victim),
		"removes": cty.StringVal(victim),
	})
	if res, err := a.Apply(t.Context(), env); err != nil || res.Changed {
		t.Fatalf("Apply with nothing to remove: changed=%v err=%v", res.Changed, err)
	}
	if err := os.WriteFile(victim, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if res, err := a.Apply(t.Context(), env); err != nil || !res.Changed {
		t.Fatalf("Apply with file present: changed=%v err=%v", res.Changed, err)
	}
	if _, err := os.Stat(victim); !os.IsNotExist(err) {
		t.Fatalf("file still there: %v", err)
	}
}

func TestCommandFailureReportsStatusAndStderr(t *testing.T) {
	env := &modules.Env{Conn: local.New()}
	a := newAction(t, map[string]cty.Value{"command": cty.StringVal("echo disk full >&2; exit 4")})
	res, err := a.Apply(t.Context(), env)
	if err == nil {
		t.Fatal("want an error for exit 4")
	}
	if !strings.Contains(err.Error(), "status 4") || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("error %q should name the status and the stderr", err)
	}
	if rc, _ := res.Output["rc"].AsBigFloat().Int64(); rc != 4 {
		t.Errorf("rc output = %d, want 4", rc)
	}
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	b := &tailBuffer{max: 8}
	for _, s := range []string{"abc", "defgh", "ijk", strings.Repeat("z", 20)} {
		b.Write([]byte(s))
	}
	if got := b.String(); got != "…zzzzzzzz" {
		t.Errorf("got %q", got)
	}
	c := &tailBuffer{max: 8}
	c.Write([]byte("abcdef"))
	c.Write([]byte("ghij"))
	if got := c.String(); got != "…cdefghij" {
		t.Errorf("got %q", got)
	}
}
