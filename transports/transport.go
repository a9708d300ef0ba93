package transports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/osrun/osrun/inventory/secret"
)

// Cmd is one command to run on a host. Command is a shell command line for
// POSIX hosts (run by /bin/sh -c) and a PowerShell script for Windows hosts.
// Stdout and Stderr receive output as it arrives; either may be nil.
type Cmd struct {
	Command string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	// Become runs the command with elevated privileges (sudo on POSIX).
	// Transports that cannot elevate return an error rather than run it
	// unprivileged.
	Become bool
}

// Upload describes one file to place on a host.
type Upload struct {
	Src  io.Reader
	Size int64
	Dst  string
	Mode fs.FileMode
	// SHA256 is the hex digest of Src when the caller knows it. A transport
	// uses it to skip the transfer when Dst already has that content, and
	// always verifies the written file against the digest it computed.
	SHA256 string
}

// Conn is an open connection to one host. It is safe for sequential use by
// one goroutine; the runner gives each host its own Conn for the whole run.
type Conn interface {
	// Run runs cmd and returns nil only if it exited with status 0. A
	// non-zero exit is an *ExitError; a connection that dropped before an
	// exit status arrived is ErrConnectionLost (wrapped). Cancelling ctx
	// stops the remote command and returns ctx.Err() (wrapped).
	Run(ctx context.Context, cmd *Cmd) error
	// Upload writes a file atomically and verifies it end to end.
	Upload(ctx context.Context, u Upload) error
	// Shell names the command language Run expects: "sh" or "powershell".
	Shell() string
	Close() error
}

// ExitError reports a command that ran and exited with a non-zero status.
type ExitError struct {
	Command string
	Status  int
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("command %q exited with status %d", truncate(e.Command, 80), e.Status)
}

// ErrConnectionLost means the connection dropped before the command reported
// an exit status: the command may or may not have run to completion.
var ErrConnectionLost = errors.New("connection lost before the command reported an exit status")

// ErrUnreachable marks a failure to open a connection (dial, handshake or
// authentication). The runner reports hosts failing this way as unreachable.
var ErrUnreachable = errors.New("host unreachable")

func truncate(s string, n int) string {
	return secret.Clip(s, n)
}
