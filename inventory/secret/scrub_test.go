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
	New("-----BEGIN KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACBnZm9v\n-----END KEY-----", `file("id")`)
	tests := []struct{ in, want string }{
		{"debug1: b3BlbnNzaC1rZXktdjEAAAAA", "debug1: " + Redacted},
		{"whole: -----BEGIN KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACBnZm9v\n-----END KEY-----.", "whole: " + Redacted + "."},
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

// A cut that falls inside a secret leaves a part Scrub cannot recognise:
// Clip masks the beginning of one left at the end of what it keeps, and
// MaskCutStart the end of one left at the beginning of a kept tail.
func TestCutsInsideSecrets(t *testing.T) {
	New("cut-secret-0a1b2c3d", "test")
	New("ab", "test") // too short to scrub: never masks a part either
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"clip keeps short text", Clip("short text", 20), "short text"},
		{"clip inside a secret", Clip("token=cut-secret-0a1b2c3d done", 14), "token=" + Redacted + "…"},
		{"clip after a secret", Clip("x cut-secret-0a1b2c3d and more", 24), "x cut-secret-0a1b2c3d an…"},
		{"clip leaves two bytes of a secret", Clip("token=cut-secret", 8), "token=cu…"},
		{"clip leaves an unrelated end", Clip("nothing secret here at all", 10), "nothing se…"},
		{"clip on a character boundary", Clip("héé", 2), "h…"},
		{"tail inside a secret", MaskCutStart("1b2c3d\nexit 0"), Redacted + "\nexit 0"},
		{"tail at a secret's last three bytes", MaskCutStart("c3d rest"), Redacted + " rest"},
		{"tail at a secret's last two bytes", MaskCutStart("3d rest"), "3d rest"},
		{"tail with the whole secret", MaskCutStart("cut-secret-0a1b2c3d"), "cut-secret-0a1b2c3d"},
		{"tail of other text", MaskCutStart("plain output"), "plain output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("= %q, want %q", tt.got, tt.want)
			}
		})
	}
}
