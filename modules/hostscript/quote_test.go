package hostscript

import (
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPS(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "OutSystems Deployment Service", `'OutSystems Deployment Service'`},
		{"empty", "", `''`},
		{"quote doubled", "it's", `'it''s'`},
		{"variables stay literal", "$env:TEMP $(calc)", `'$env:TEMP $(calc)'`},
		{"backtick stays literal", "a`nb", "'a`nb'"},
		{"typographic quotes doubled", "a\u2019b\u2018c\u201ad\u201be", "'a\u2019\u2019b\u2018\u2018c\u201a\u201ad\u201b\u201be'"},
		{"windows path", `C:\Program Files\OutSystems\Platform Server`, `'C:\Program Files\OutSystems\Platform Server'`},
		{"newline kept", "a\nb", "'a\nb'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PS(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("PS(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestQuoteRefusesNUL(t *testing.T) {
	for name, quote := range map[string]func(string) (string, error){"PS": PS, "Sh": Sh} {
		if _, err := quote("a\x00b"); err == nil {
			t.Errorf("%s accepted a NUL byte", name)
		}
	}
}

func TestSh(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "DEPLOYER", `'DEPLOYER'`},
		{"empty", "", `''`},
		{"quote", "it's", `'it'\''s'`},
		{"expansions stay literal", "$HOME `id` $(id) *", `'$HOME ` + "`id`" + ` $(id) *'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sh(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Sh(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzSh proves the quoting with a real shell: whatever the value, sh
// must print it back byte for byte.
func FuzzSh(f *testing.F) {
	for _, s := range []string{"", "a b", "it's", "'", "''\\'", "$(id)", "`id`", "a\nb", "*", "-n", "\\", "\"", "é\u2019"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
			t.Skip()
		}
		q, err := Sh(s)
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+q).Output()
		if err != nil {
			t.Fatalf("sh -c printf %%s %s: %v", q, err)
		}
		if string(out) != s {
			t.Errorf("round trip of %q through %s gave %q", s, q, out)
		}
	})
}
