package playbook

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/gate"
)

// nopAction does nothing: playbook tests only decode.
type nopAction struct{}

func (nopAction) Check(context.Context, *modules.Env) (modules.Result, error) {
	return modules.Result{}, nil
}
func (nopAction) Apply(context.Context, *modules.Env) (modules.Result, error) {
	return modules.Result{}, nil
}

func newNop(modules.Args) (modules.Action, error) { return nopAction{}, nil }

// testRegistry holds modules shaped like the real ones.
func testRegistry(t testing.TB) *modules.Registry {
	t.Helper()
	reg, err := modules.NewRegistry(
		&modules.Definition{
			Name: "command",
			Params: []modules.Param{
				{Name: "cmd", Type: cty.String, Required: true},
				{Name: "creates", Type: cty.String},
				{Name: "become", Type: cty.Bool, Default: cty.False},
			},
			DefaultOn: modules.OnHost,
			New:       newNop,
		},
		&modules.Definition{
			Name: "lb_member",
			Params: []modules.Param{
				{Name: "state", Type: cty.String, Required: true, OneOf: []string{"enabled", "disabled"}},
				{Name: "drain", Type: cty.String, Default: cty.StringVal("0s")},
				{Name: "password", Type: cty.String, Secret: true},
			},
			DefaultOn: modules.OnControl,
			New:       newNop,
		},
		&modules.Definition{
			Name: "installer",
			Params: []modules.Param{
				{Name: "version", Type: cty.String, Required: true},
				{Name: "reboot", Type: cty.Bool},
				{Name: "ports", Type: cty.List(cty.Number)},
			},
			New: newNop,
		},
		// The real one: a wave's gate attribute becomes a task of it.
		gate.Definition(gate.Options{}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func testInventory(t testing.TB) *inventory.Inventory {
	t.Helper()
	inv, diags := inventory.Load(hclparse.NewParser(), filepath.Join("testdata", "inventory.hcl"))
	if diags.HasErrors() {
		t.Fatalf("test inventory: %s", diags.Error())
	}
	return inv
}

// decodeFile parses and decodes a playbook file.
func decodeFile(t testing.TB, path string, vars map[string]string, varFiles []string) (*Playbook, hcl.Diagnostics) {
	t.Helper()
	f, diags := Parse(hclparse.NewParser(), path)
	if diags.HasErrors() {
		return nil, diags
	}
	pb, more := f.Decode(testInventory(t), testRegistry(t), vars, varFiles)
	return pb, append(diags, more...)
}

// decodeSource parses and decodes an in-memory playbook.
func decodeSource(t testing.TB, src string, vars map[string]string) (*Playbook, hcl.Diagnostics) {
	t.Helper()
	f, diags := parseSource(hclparse.NewParser(), filepath.Join("testdata", "test.hcl"), []byte(src))
	if diags.HasErrors() {
		return nil, diags
	}
	pb, more := f.Decode(testInventory(t), testRegistry(t), vars, nil)
	return pb, append(diags, more...)
}

func hostNamesOf(hosts []*inventory.Host) []string {
	out := []string{}
	for _, h := range hosts {
		out = append(out, h.Name)
	}
	return out
}

func firstSummary(diags hcl.Diagnostics) string {
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			return d.Summary
		}
	}
	return ""
}
