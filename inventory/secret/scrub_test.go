package secret

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestScrubMasksEverySecretRead(t *testing.T) {
	New("winrm-Pa55word", `env("A")`)
	MarkValue(cty.StringVal("sc-token-123"), `env("B")`)
	MarkValue(cty.StringVal("sc-token-123-longer"), `file("t")`)
	New("ab", `env("SHORT")`)
	tests := []struct{ in, want string }{
		{"login failed for winrm-Pa55word", "login failed for " + Redacted},
		{"Authorization: Bearer sc-token-123-longer", "Authorization: Bearer " + Redacted},
		{"token sc-token-123 and winrm-Pa55word", "token " + Redacted + " and " + Redacted},
		{"nothing secret here, ab is too short to mask", "nothing secret here, ab is too short to mask"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Scrub(tt.in); got != tt.want {
			t.Errorf("Scrub(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
