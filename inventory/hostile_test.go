package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/osrun/osrun/internal/hclsource"
)

// TestHostileSource feeds inventories that would exhaust the parser's
// stack (nesting is fatal, not a panic, past Go's 1 GB stack) or memory:
// each must end in one located error from the shared limits.
func TestHostileSource(t *testing.T) {
	const n = 100_000 // a million brackets overflowed the stack before the limit
	vars := func(v string) string {
		return "host \"fe01\" {\n  address = \"10.0.0.1\"\n  stack   = \"j2ee\"\n  vars    = " + v + "\n}\n"
	}
	tests := []struct {
		name, file, src, want string
		wantLine              int
	}{
		{"brackets", "inv.hcl", vars(strings.Repeat("[", n) + "1" + strings.Repeat("]", n)), "Too deeply nested", 4},
		{"objects", "inv.hcl", vars(strings.Repeat("{a=", n) + "1" + strings.Repeat("}", n)), "Too deeply nested", 4},
		{"templates", "inv.hcl", vars(strings.Repeat(`"${`, n) + "1" + strings.Repeat(`}"`, n)), "Too deeply nested", 4},
		{"blocks", "inv.hcl", strings.Repeat("host \"a\" {\n", 10_000) + strings.Repeat("}\n", 10_000), "Too deeply nested", hclsource.MaxNesting + 1},
		{"json", "inv.json", `{"host": {"fe01": {"vars": ` + strings.Repeat("[", n) + "1" + strings.Repeat("]", n) + "}}}", "Too deeply nested", 1},
		{"NUL", "inv.hcl", vars("\"a\x00b\""), "Invalid character", 4},
		{"huge", "inv.hcl", "# " + strings.Repeat("x", 5<<20) + "\n", "File too large", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(path, []byte(tt.src), 0o600); err != nil {
				t.Fatal(err)
			}
			inv, diags := Load(hclparse.NewParser(), path)
			if inv != nil || len(diags) == 0 || diags[0].Summary != tt.want {
				t.Fatalf("diags = %v, want %q", diags, tt.want)
			}
			if s := diags[0].Subject; s == nil || s.Filename != path || s.Start.Line != tt.wantLine {
				t.Errorf("subject %v, want line %d of %s", s, tt.wantLine, path)
			}
			// LoadSource (tests, fuzzing) has the same limits.
			if _, diags := LoadSource(hclparse.NewParser(), path, []byte(tt.src)); len(diags) == 0 || diags[0].Summary != tt.want {
				t.Errorf("LoadSource: diags = %v, want %q", diags, tt.want)
			}
		})
	}
}
