// Package transporttest is the conformance suite every transport passes.
//
// Run takes a function that opens a fresh transports.Conn and checks the
// behaviour the runner relies on: stdout and stderr kept apart, exit codes
// as *transports.ExitError, stdin, output streamed while the command runs,
// uploads (content, mode, atomic replacement, checksum verification and the
// skip when the destination already matches), cancellation that returns
// promptly and leaves no remote process behind, and an idempotent Close.
//
// The suite speaks the language named by Conn.Shell(). For "sh" it runs
// POSIX commands. For "powershell" it uses only the fixed snippets built by
// the PS* functions in this package, so a fake WinRM server can recognise
// them exactly and emulate them; Dialect lists every snippet the suite uses
// for each shell.
package transporttest
