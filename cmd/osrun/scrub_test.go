package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/osrun/osrun/inventory/secret"
)

// The run's warning log (the one apply writes) quotes values: a secret with a quote or a
// backslash in it is escaped there, and only masking the values before
// the handler formats them keeps it out.
func TestWarningLogMasksSecrets(t *testing.T) {
	const pw = `log-pa"ss\word-55e1`
	secret.New(pw, `env("LOG_TEST")`)
	var buf bytes.Buffer
	log := warningLog(&buf)
	log.Warn("login with "+pw+" refused", "check", "said "+pw, "err", errors.New("denied: "+pw), "any", struct{ S string }{pw})
	out := buf.String()
	for _, form := range []string{pw, strings.ReplaceAll(strings.ReplaceAll(pw, `\`, `\\`), `"`, `\"`), "ss\\word", "log-pa"} {
		if strings.Contains(out, form) {
			t.Errorf("the log shows %q:\n%s", form, out)
		}
	}
	if n := strings.Count(out, secret.Redacted); n != 4 {
		t.Errorf("%d values masked, want 4:\n%s", n, out)
	}
}
