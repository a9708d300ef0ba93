package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// unsetGuard is the variable testdata/invalid/env_unset.hcl reads; the
// test makes sure it is unset.
const unsetGuard = "OSRUN_TEST_SURELY_UNSET_7F3A9C"

var errorMark = regexp.MustCompile(`#\s*ERROR:\s*([^#]*[^#\s])`)

type wantDiag struct {
	Line    int
	Summary string
}

// TestInvalidCorpus loads every file of testdata/invalid and checks that
// the error diagnostics are exactly the ones marked in the file with a
// trailing "# ERROR: <summary>" comment on the offending line.
func TestInvalidCorpus(t *testing.T) {
	if _, set := os.LookupEnv(unsetGuard); set {
		t.Fatalf("%s must be unset for this test", unsetGuard)
	}
	files, err := filepath.Glob("testdata/invalid/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("only %d invalid inventories, want at least 20", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".hcl"), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var want []wantDiag
			for i, line := range strings.Split(string(src), "\n") {
				for _, m := range errorMark.FindAllStringSubmatch(line, -1) {
					want = append(want, wantDiag{Line: i + 1, Summary: m[1]})
				}
			}
			if len(want) == 0 {
				t.Fatal("no # ERROR: marker in file")
			}
			parser := hclparse.NewParser()
			inv, diags := Load(parser, file)
			if inv != nil {
				t.Errorf("Load returned an inventory for an invalid file")
			}
			var got []wantDiag
			for _, d := range diags {
				if d.Severity != hcl.DiagError {
					continue
				}
				if d.Subject == nil {
					t.Errorf("diagnostic %q has no Subject", d.Summary)
					continue
				}
				if d.Detail == "" {
					t.Errorf("diagnostic %q has no Detail", d.Summary)
				}
				got = append(got, wantDiag{Line: d.Subject.Start.Line, Summary: d.Summary})
			}
			sortDiags(want)
			sortDiags(got)
			if !slices.Equal(got, want) {
				t.Errorf("diagnostics differ\n got: %v\nwant: %v\n%s", got, want, render(parser, diags))
			}
		})
	}
}

func sortDiags(ds []wantDiag) {
	slices.SortFunc(ds, func(a, b wantDiag) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return strings.Compare(a.Summary, b.Summary)
	})
}

func render(parser *hclparse.Parser, diags hcl.Diagnostics) string {
	var b strings.Builder
	w := hcl.NewDiagnosticTextWriter(&b, parser.Files(), 100, false)
	if err := w.WriteDiagnostics(diags); err != nil {
		fmt.Fprintf(&b, "render: %v", err)
	}
	return b.String()
}

// TestDiagnosticDetails checks that details carry what the user needs to
// fix the problem: suggestions, the first declaration, the cycle path.
func TestDiagnosticDetails(t *testing.T) {
	tests := []struct {
		file, detail string
	}{
		{"unknown_host_in_group", `Did you mean "fe01"?`},
		{"unknown_load_balancer", `Did you mean "main"?`},
		{"unknown_zone", `Did you mean "zone_a"?`},
		{"bad_stack", `Did you mean "dotnet"?`},
		{"bad_role", `Did you mean "frontend"?`},
		{"unknown_argument", `Did you mean "address"?`},
		{"duplicate_host", `already declared at testdata/invalid/duplicate_host.hcl:1,1-12`},
		{"two_controllers", `Host "fe01" is already the controller`},
		{"group_cycle", `group.a → group.b → group.c → group.a`},
		{"string_reference", `Write host.fe01, not "fe01"`},
		{"env_unset", `environment variable ` + unsetGuard + ` is not set`},
		{"missing_load_balancer", `load_balancer = load_balancer.lb1`},
		{"zone_without_updating", `zone "b" with no updating front-end (its front-ends: fe03, fe04)`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, diags := Load(hclparse.NewParser(), filepath.Join("testdata", "invalid", tt.file+".hcl"))
			for _, d := range diags {
				if strings.Contains(d.Detail, tt.detail) {
					return
				}
			}
			t.Errorf("no diagnostic detail contains %q; got %v", tt.detail, diags)
		})
	}
}
