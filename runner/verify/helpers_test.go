package verify

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/gate"
	"github.com/osrun/osrun/runner/playbook"
)

type nopAction struct{}

func (nopAction) Check(context.Context, *modules.Env) (modules.Result, error) {
	return modules.Result{}, nil
}
func (nopAction) Apply(context.Context, *modules.Env) (modules.Result, error) {
	return modules.Result{}, nil
}

func newNop(modules.Args) (modules.Action, error) { return nopAction{}, nil }

// testRegistry holds modules with the names, parameters and Effects of
// the built-in ones, so these tests do not depend on every module being
// finished.
func testRegistry(t testing.TB) *modules.Registry {
	t.Helper()
	reg, err := modules.NewRegistry(
		&modules.Definition{
			Name:      "lb_member",
			DefaultOn: modules.OnControl,
			Params: []modules.Param{
				{Name: "state", Type: cty.String, Required: true, OneOf: []string{"enabled", "drained", "disabled"}},
				{Name: "min_in_rotation", Type: cty.Number, Default: cty.NumberIntVal(1)},
			},
			Effects: func(args modules.Args) modules.Effect {
				if args.String("state") == "enabled" {
					return modules.Effect{Rotation: modules.RotationIn}
				}
				return modules.Effect{Rotation: modules.RotationOut}
			},
			New: newNop,
		},
		&modules.Definition{
			Name:      "sc_frontend",
			DefaultOn: modules.OnControl,
			Params: []modules.Param{
				{Name: "deployment", Type: cty.String, Required: true, OneOf: []string{"enabled", "disabled"}},
				{Name: "frontend", Type: cty.String},
			},
			Effects: func(args modules.Args) modules.Effect {
				if args.String("deployment") == "enabled" {
					return modules.Effect{Deployment: modules.DeploymentEnabled}
				}
				return modules.Effect{Deployment: modules.DeploymentDisabled}
			},
			New: newNop,
		},
		&modules.Definition{
			Name: "installer",
			Params: []modules.Param{
				{Name: "version", Type: cty.String, Required: true},
				{Name: "admin_password", Type: cty.String, Secret: true},
			},
			Effects: func(modules.Args) modules.Effect { return modules.Effect{Disruptive: true, Upgrades: true} },
			New:     newNop,
		},
		&modules.Definition{
			Name: "service",
			Params: []modules.Param{
				{Name: "name", Type: cty.String, Required: true},
				{Name: "state", Type: cty.String, OneOf: []string{"running", "stopped", "restarted"}},
				{Name: "startup", Type: cty.String, OneOf: []string{"automatic", "manual", "disabled"}},
			},
			Effects: func(args modules.Args) modules.Effect {
				switch args.String("state") {
				case "stopped", "restarted":
					return modules.Effect{Disruptive: true}
				}
				return modules.Effect{}
			},
			New: newNop,
		},
		&modules.Definition{
			Name:   "command",
			Params: []modules.Param{{Name: "cmd", Type: cty.String, Required: true}},
			New:    newNop,
		},
		&modules.Definition{
			Name:      "http_check",
			DefaultOn: modules.OnControl,
			Params:    []modules.Param{{Name: "url", Type: cty.String, Required: true}},
			New:       newNop,
		},
		&modules.Definition{
			Name:      "wait_deployer",
			DefaultOn: modules.OnControl,
			New:       newNop,
		},
		// The real one: it has no effects, and a wave's gate runs it.
		gate.Definition(gate.Options{}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func loadInventory(t testing.TB, path string) *inventory.Inventory {
	t.Helper()
	inv, diags := inventory.Load(hclparse.NewParser(), path)
	if diags.HasErrors() {
		t.Fatalf("inventory %s: %s", path, diags.Error())
	}
	return inv
}

// decode writes src to a playbook file and decodes it; the file is kept
// so diagnostics can be matched against its lines.
func decode(t testing.TB, src string, inv *inventory.Inventory, reg *modules.Registry) *playbook.Playbook {
	t.Helper()
	path := filepath.Join(t.TempDir(), "upgrade.hcl")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return decodeFile(t, path, inv, reg)
}

func decodeFile(t testing.TB, path string, inv *inventory.Inventory, reg *modules.Registry) *playbook.Playbook {
	t.Helper()
	f, diags := playbook.Parse(hclparse.NewParser(), path)
	if diags.HasErrors() {
		t.Fatalf("parse %s: %s", path, diags.Error())
	}
	pb, diags := f.Decode(inv, reg, nil, nil)
	if diags.HasErrors() {
		t.Fatalf("decode %s: %s", path, diags.Error())
	}
	return pb
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// block finds the text of a top-level wave, or of a task inside one
// ("\n  task ..."), from its header to its closing brace.
func block(t testing.TB, src, header, closing string) (start, end int) {
	t.Helper()
	start = strings.Index(src, header)
	if start < 0 {
		t.Fatalf("no %q in the playbook", header)
	}
	n := strings.Index(src[start:], closing)
	if n < 0 {
		t.Fatalf("%q is not closed", header)
	}
	return start, start + n + len(closing)
}

// removeWave deletes wave name.
func removeWave(t testing.TB, src, name string) string {
	s, e := block(t, src, "wave \""+name+"\" {", "\n}\n")
	return src[:s] + src[e:]
}

// removeTask deletes task module.name.
func removeTask(t testing.TB, src, module, name string) string {
	s, e := block(t, src, "  task \""+module+"\" \""+name+"\" {", "\n  }\n")
	return src[:s] + src[e:]
}

// moveWaveBefore moves wave name just before wave before.
func moveWaveBefore(t testing.TB, src, name, before string) string {
	s, e := block(t, src, "wave \""+name+"\" {", "\n}\n")
	w := src[s:e] + "\n"
	src = src[:s] + src[e:]
	at := strings.Index(src, "wave \""+before+"\" {")
	if at < 0 {
		t.Fatalf("no wave %q", before)
	}
	return src[:at] + w + src[at:]
}

// replace replaces old, which must occur exactly once.
func replace(t testing.TB, src, old, repl string) string {
	t.Helper()
	if n := strings.Count(src, old); n != 1 {
		t.Fatalf("%q occurs %d times in the playbook, want once", old, n)
	}
	return strings.Replace(src, old, repl, 1)
}

// subjectLine is the source line a diagnostic points at.
func subjectLine(src string, d *hcl.Diagnostic) string {
	if d.Subject == nil {
		return ""
	}
	lines := strings.Split(src, "\n")
	if n := d.Subject.Start.Line; n >= 1 && n <= len(lines) {
		return strings.TrimSpace(lines[n-1])
	}
	return ""
}
