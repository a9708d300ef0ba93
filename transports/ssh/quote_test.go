package ssh

import (
	"os/exec"
	"strings"
	"testing"
)

var quoteCases = []string{
	"", " ", "plain", "two words", "'", "''", `"`, `\`, `\'`, "$HOME", "$(id)", "`id`",
	"a\nb", "\t", "*", "?", "[a]", "~", "~root", "-n", "--", "a;b", "a|b", "a&b", "!x",
	"#comment", "{a,b}", "é ünïcode ✓", "\x01\x7f", "line with 'quotes' and \"doubles\"",
}

// echoThroughSh returns what sh sees as $1 when given Quote(s).
func echoThroughSh(t testing.TB, s string) string {
	out, err := exec.Command("/bin/sh", "-c", "printf %s "+Quote(s)).Output()
	if err != nil {
		t.Fatalf("sh -c with %q: %v", s, err)
	}
	return string(out)
}

func TestQuoteRoundTrip(t *testing.T) {
	for _, s := range quoteCases {
		if got := echoThroughSh(t, s); got != s {
			t.Errorf("Quote(%q) = %s; sh expands it to %q", s, Quote(s), got)
		}
	}
}

// TestQuoteNested checks the case the transport relies on: a quoted
// command run by sh -c, itself quoted for another sh -c.
func TestQuoteNested(t *testing.T) {
	for _, s := range quoteCases {
		inner := "printf %s " + Quote(s)
		out, err := exec.Command("/bin/sh", "-c", "/bin/sh -c "+Quote(inner)).Output()
		if err != nil || string(out) != s {
			t.Errorf("nested %q: got %q, %v", s, out, err)
		}
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range quoteCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.IndexByte(s, 0) >= 0 {
			t.Skip("NUL cannot be part of an argument")
		}
		if got := echoThroughSh(t, s); got != s {
			t.Errorf("Quote(%q) = %s; sh expands it to %q", s, Quote(s), got)
		}
	})
}
