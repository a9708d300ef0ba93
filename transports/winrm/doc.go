// Package winrm is the transport to Windows (.NET) front-ends: PowerShell
// over WS-Management, on github.com/masterzen/winrm.
//
// Dial (or Dialer.Dial) checks a host's WinRM settings, refuses unsafe ones
// (Basic over plain HTTP), warns about weakened ones (insecure = true,
// plain HTTP), and proves the credentials by opening a shell. Conn.Run runs
// a PowerShell script through -EncodedCommand inside scripts/run.ps1, so
// errors stop the script and exit codes come back; scripts too long for a
// command line travel over stdin. Conn.Upload streams a file into one
// PowerShell pipeline and verifies its SHA-256 on both ends.
//
// The library has no cancellation and trusts the server too much, so this
// package drives the protocol itself (library.go is the only file that
// touches the library): it checks shell and command ids, exit codes and
// SOAP faults, keeps the WS-Man OperationTimeout below the HTTP timeout
// and polls through w:TimedOut faults, and stops a cancelled command by
// signalling terminate and deleting its shell.
//
// Every script sent to a host is an embedded template in scripts/.
// winrmtest is the WS-Management server the tests run against.
package winrm
