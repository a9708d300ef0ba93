package ssh

import "strings"

// Quote returns s as a single POSIX shell word that sh expands back to
// exactly s. It wraps s in single quotes, inside which sh interprets
// nothing, and writes each single quote as '\” (close, escaped quote,
// reopen). This is the only quoting function in the transport: every
// argument placed in a remote command line goes through it.
//
// A NUL byte cannot be passed to a program as part of an argument at all;
// callers must not pass one.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
