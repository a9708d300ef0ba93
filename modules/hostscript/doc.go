// Package hostscript renders the PowerShell and POSIX sh scripts that host
// modules send, and runs them over a transports.Conn.
//
// Every script a module sends is a text/template file embedded in that
// module, so a reviewer reads exactly what runs on a production server.
// Templates quote values only through the "ps" and "sh" functions (PS and
// Sh here), which use the transports' audited quoting (winrm.Quote,
// ssh.Quote): the one place where a value becomes script text.
//
// Scripts talk back on stdout with marker lines "osrun-<key>=<value>"; Exec
// collects them into Output.Values and passes every other line, stdout and
// stderr, to a progress callback and to a bounded tail kept for error
// messages.
//
// Entry points: Parse (a template set), Templates.Render, Exec, PS, Sh.
package hostscript
