package playbook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/osrun/osrun/internal/hclsource"
)

// TestHostileSource feeds input that would exhaust the parser's stack or
// memory: each must end in one clear, located error.
func TestHostileSource(t *testing.T) {
	const n = 2_000 // far past the limit; 100k would overflow the parser without it
	wave := func(serial string) string {
		return "wave \"w\" {\n  hosts  = group.all\n  serial = " + serial + "\n}\n"
	}
	tests := []struct {
		name, src, want string
		wantLine        int
	}{
		{"brackets", wave(strings.Repeat("[", n) + "1" + strings.Repeat("]", n)), "Too deeply nested", 3},
		{"parentheses", wave(strings.Repeat("(", n) + "1" + strings.Repeat(")", n)), "Too deeply nested", 3},
		{"objects", wave(strings.Repeat("{a=", n) + "1" + strings.Repeat("}", n)), "Too deeply nested", 3},
		{"templates", wave(strings.Repeat(`"${`, n) + "1" + strings.Repeat(`}"`, n)), "Too deeply nested", 3},
		{"template directives", wave(`"` + strings.Repeat("%{if true}", n) + strings.Repeat("%{endif}", n) + `"`), "Too deeply nested", 3},
		{"blocks", strings.Repeat("wave \"w\" {\n", n) + strings.Repeat("}\n", n), "Too deeply nested", hclsource.MaxNesting + 1},
		{"huge", "# " + strings.Repeat("x", hclsource.MaxBytes) + "\n", "File too large", 1},
		{"nesting allowed", wave(strings.Repeat("[", 3) + "1" + strings.Repeat("]", 3)), "Invalid serial", 3},
		{"brackets in strings do not count", wave(`"` + strings.Repeat("[", 1000) + `"`), "Invalid serial", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "playbook.hcl")
			if err := os.WriteFile(path, []byte(tt.src), 0o600); err != nil {
				t.Fatal(err)
			}
			f, diags := Parse(hclparse.NewParser(), path)
			if f != nil {
				_, diags = f.Decode(testInventory(t), testRegistry(t), nil, nil)
			}
			errs := errorsOf(diags)
			if len(errs) == 0 || errs[0].Summary != tt.want {
				t.Fatalf("diags = %v, want %q", diags, tt.want)
			}
			if s := errs[0].Subject; s == nil || s.Filename != path || s.Start.Line != tt.wantLine {
				t.Errorf("subject %v, want line %d of %s", s, tt.wantLine, path)
			}
		})
	}
}

func TestHostileVarFile(t *testing.T) {
	dir := t.TempDir()
	deep := filepath.Join(dir, "deep.json")
	src := `{"target_version": ` + strings.Repeat(`["\"[",`, 2_000) + "1" + strings.Repeat("]", 2_000) + "}"
	if err := os.WriteFile(deep, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"deep json", deep, "Too deeply nested"},
		{"directory", dir, "Failed to read file"},
		{"missing", filepath.Join(dir, "missing.hcl"), "Failed to read file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := decodeFile(t, filepath.Join("testdata", "valid", "upgrade.hcl"), nil, []string{tt.path})
			if got := firstSummary(diags); got != tt.want {
				t.Errorf("diags = %v, want %q", diags, tt.want)
			}
		})
	}
}
