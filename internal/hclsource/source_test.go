package hclsource

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name, file, src, want string
		line, col             int
	}{
		{"fine", "a.hcl", "x = [[1]]\n", "", 0, 0},
		{"NUL after multi-byte characters", "a.hcl", "# é\nx = \"é\x00\"\n", "Invalid character", 2, 7},
		{"NUL in JSON", "a.json", "{\"x\": \"\x00\"}", "Invalid character", 1, 8},
		{"deep HCL", "a.hcl", "x = " + strings.Repeat("[", MaxNesting+1), "Too deeply nested", 1, 5 + MaxNesting},
		{"deep JSON", "a.json", strings.Repeat("[", MaxNesting+1), "Too deeply nested", 1, 1 + MaxNesting},
		{"JSON brackets in strings", "a.json", `{"x": "` + strings.Repeat("[", 2*MaxNesting) + `"}`, "", 0, 0},
		{"huge", "a.hcl", strings.Repeat("#", MaxBytes+1), "File too large", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diags := Check([]byte(tt.src), tt.file, strings.HasSuffix(tt.file, ".json"))
			if tt.want == "" {
				if diags.HasErrors() {
					t.Fatalf("unexpected %v", diags)
				}
				return
			}
			if len(diags) != 1 || diags[0].Summary != tt.want {
				t.Fatalf("diags = %v, want %q", diags, tt.want)
			}
			if s := diags[0].Subject; s == nil || s.Filename != tt.file || s.Start.Line != tt.line || s.Start.Column != tt.col {
				t.Errorf("subject %v, want %s:%d,%d", s, tt.file, tt.line, tt.col)
			}
		})
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"fe01": true, "zone_a-1": true, strings.Repeat("a", MaxName): true,
		"": false, "1fe": false, strings.Repeat("a", MaxName+1): false,
		"$(id)": false, "`id`": false, "a;b": false, "a'b": false, "a\"b": false,
		"a\nb": false, "a b": false, "a\x00b": false, "a\x1b[31m": false,
	} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%.20q) = %v, want %v", name, got, want)
		}
	}
}
