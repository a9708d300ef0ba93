package hostscript

import (
	"errors"
	"strings"

	"github.com/osrun/osrun/transports/ssh"
	"github.com/osrun/osrun/transports/winrm"
)

// The transports own the one audited quoting function per language; these
// wrappers give templates the same signature for both and keep values no
// shell can carry out of scripts.

// errNUL is returned for values no shell can carry: a NUL byte ends a C
// string on the far side, so the script would see a different value.
var errNUL = errors.New("value contains a NUL byte")

// Sh quotes s as one POSIX sh word (ssh.Quote), refusing NUL bytes.
func Sh(s string) (string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", errNUL
	}
	return ssh.Quote(s), nil
}

// PS quotes s as a PowerShell verbatim string literal (winrm.Quote), in
// which no variable or sub-expression is expanded; it refuses NUL bytes
// and invalid UTF-8.
func PS(s string) (string, error) {
	return winrm.Quote(s)
}
