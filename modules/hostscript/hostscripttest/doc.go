// Package hostscripttest helps test modules that send host scripts: golden
// files for rendered scripts (regenerated with -update), ShellConn, a
// transports.Conn that really runs sh scripts in a sandbox directory, and
// FakeConn, a scripted Conn for PowerShell scripts that cannot run here.
package hostscripttest
