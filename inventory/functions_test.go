package inventory

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/osrun/osrun/inventory/secret"
)

// A value derived from a secret by any function is masked in text like the
// secret itself: what a host echoes back is the derived value. Values
// derived from plain strings are left alone.
func TestDerivedSecretsAreScrubbed(t *testing.T) {
	t.Setenv("OSRUN_TEST_PADDED", "  trimmed-s3cr3t-4e1  ")
	t.Setenv("OSRUN_TEST_CREDS", `{"user":"svc-deployer-7f","token":"tok-9c2b-json-field"}`)
	tests := []struct {
		expr   string
		secret string // what the expression yields, to be masked afterwards
		masked bool
	}{
		{`trimspace(env("OSRUN_TEST_PADDED"))`, "trimmed-s3cr3t-4e1", true},
		{`jsondecode(env("OSRUN_TEST_CREDS")).token`, "tok-9c2b-json-field", true},
		{`jsondecode(env("OSRUN_TEST_CREDS")).user`, "svc-deployer-7f", true},
		{`upper(substr(trimspace(env("OSRUN_TEST_PADDED")), 0, 7))`, "TRIMMED", true},
		{`join("-", ["derived", trimspace(env("OSRUN_TEST_PADDED"))])`, "derived-trimmed-s3cr3t-4e1", true},
		{`trimspace("  plain-visible-word  ")`, "plain-visible-word", false},
		{`upper("not-a-secret-either")`, "NOT-A-SECRET-EITHER", false},
	}
	ctx := &hcl.EvalContext{Functions: Functions(t.TempDir())}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			expr, diags := hclsyntax.ParseExpression([]byte(tt.expr), "test.hcl", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			v, diags := expr.Value(ctx)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			raw, _ := v.UnmarkDeep()
			if raw.AsString() != tt.secret {
				t.Fatalf("= %q, want %q", raw.AsString(), tt.secret)
			}
			if got := secret.IsMarked(v); got != tt.masked {
				t.Errorf("marked = %v, want %v", got, tt.masked)
			}
			line := "the host said: " + tt.secret + "."
			scrubbed := secret.Scrub(line)
			if tt.masked && scrubbed != "the host said: "+secret.Redacted+"." {
				t.Errorf("Scrub = %q, want the derived secret masked", scrubbed)
			}
			if !tt.masked && scrubbed != line {
				t.Errorf("Scrub = %q, want a plain value left alone", scrubbed)
			}
		})
	}
}
