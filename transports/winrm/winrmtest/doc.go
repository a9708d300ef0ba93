// Package winrmtest is an in-process WS-Management server for testing WinRM
// clients without a Windows machine.
//
// It speaks the SOAP dialect that github.com/masterzen/winrm sends and
// parses (Create, Command, Send, Receive, Signal, Delete), authenticates
// with Basic, NTLMv2 or an HTTPS client certificate, serves TLS from a CA it
// generates, and answers like Windows does where that matters to a client:
// HTTP 401 without a SOAP body for bad credentials, HTTP 500 SOAP faults
// for unknown shells and commands, w:TimedOut faults when a command stays
// silent for the request's OperationTimeout.
//
// Commands are not executed. The server decodes
// "powershell.exe ... -EncodedCommand <base64 UTF-16LE>" and hands the
// script, the command's stdin and its output streams to a Handler (cmd.exe
// command lines go to a CmdHandler, or fail as cmd.exe would). Host is a
// Handler that simulates the PowerShell side of a Windows front-end well
// enough for osrun's transport: its wrapper scripts, uploads and checksums
// against an in-memory file system, the transporttest vocabulary, and the
// scripts registered with Host.Handle. Anything else fails with a
// PowerShell error and exit code 1, never silent success.
//
// Options reproduce server limits and conditions: MaxEnvelopeSize (500 KB,
// or 150 KB as on 2008 R2), the 8191-character command line, partial
// streams (ReceiveChunk), Latency per request. Events, WaitEvent,
// InjectFault and Reboot let tests observe and disturb the exchange.
//
// Entry points: Start (no testing dependency, for the lab farm) and
// NewServer (closes the server with t.Cleanup).
package winrmtest
