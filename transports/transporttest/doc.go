// Package transporttest is the conformance suite every transport passes.
//
// Run takes a function that opens a fresh transports.Conn and checks the
// behaviour the runner relies on: stdout and stderr kept apart, exit codes
// as *transports.ExitError carrying the command, stdin, output streamed
// while the command runs and stdin's end delivered, 16 MiB of output,
// uploads (content, mode, atomic replacement, a wrong declared SHA256
// refused with the old file kept, the skip when the destination already
// has the digest, nothing left behind by a failing source or a cancel),
// cancellation and deadlines that return promptly and leave no remote
// process behind (the sleeper is a child of the shell, so killing only the
// shell is caught), the connection still usable afterwards, and an
// idempotent Close. RunUpload runs the upload tests alone.
//
// The suite speaks the language named by Conn.Shell(). For "sh" it runs
// POSIX commands. For "powershell" it uses only the fixed snippets built by
// the PS* functions in this package, so a fake WinRM server can recognise
// them exactly and emulate them; Dialect lists every snippet the suite uses
// for each shell.
package transporttest
