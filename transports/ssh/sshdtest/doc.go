// Package sshdtest starts a real OpenSSH sshd for tests and benchmarks:
// on 127.0.0.1, with a generated host key and a generated client key in
// its authorized_keys, as the current user, killed when the test ends.
//
// Entry points: Start; Require, to skip (or, in CI, fail) when sshd is not
// installed; TempUser, an account with a light /bin/sh login shell for
// benchmarks, deleted afterwards.
package sshdtest
