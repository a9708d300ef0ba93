// Package transports defines how osrun talks to a host: a command value
// shaped like os/exec.Cmd, the Conn every transport implements, and the
// typed errors callers branch on (ExitError, ErrConnectionLost).
//
// Implementations live in sub-packages: local (the machine running osrun),
// ssh (J2EE front-ends) and winrm (.NET front-ends). Each one passes the
// shared conformance suite in transporttest.
package transports
