package hostscript

import (
	"errors"
	"strings"
)

// errNUL is returned for values no shell can carry: a NUL byte ends a C
// string on the far side, so the script would see a different value.
var errNUL = errors.New("value contains a NUL byte")

// Sh quotes s as one POSIX sh word. Inside single quotes nothing is special
// except the quote itself, which becomes: close quote, backslash-quote,
// reopen quote.
func Sh(s string) (string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", errNUL
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'", nil
}

// psQuotes are the characters PowerShell's tokenizer accepts as a single
// quote: the ASCII one and the typographic ones it treats the same way.
// Leaving any of them undoubled would end the string early.
const psQuotes = "'\u2018\u2019\u201a\u201b"

// PS quotes s as a PowerShell single-quoted string literal, in which no
// variable or sub-expression is expanded. A quote character is escaped by
// doubling it.
func PS(s string) (string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", errNUL
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for _, r := range s {
		if strings.ContainsRune(psQuotes, r) {
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String(), nil
}
