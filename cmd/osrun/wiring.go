package main

import (
	"fmt"
	"io"
	"sync"

	"github.com/osrun/osrun/runner"
	"github.com/osrun/osrun/transports/local"
	"github.com/osrun/osrun/transports/ssh"
	"github.com/osrun/osrun/transports/winrm"
)

// dialers maps an inventory host's transport name to the dialer that opens
// its connection. Security warnings (host key checking off, insecure TLS,
// plain HTTP) go to warn on every run, once per distinct message.
func dialers(warn io.Writer) map[string]runner.Dialer {
	w := &onceWarner{w: warn, seen: map[string]bool{}}
	return map[string]runner.Dialer{
		"local": local.Dialer{},
		"ssh":   ssh.Dialer{Options: ssh.Options{Warn: w.warn}},
		"winrm": &winrm.Dialer{Options: winrm.Options{Warn: w.warn}},
	}
}

type onceWarner struct {
	mu   sync.Mutex
	w    io.Writer
	seen map[string]bool
}

func (o *onceWarner) warn(msg string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen[msg] {
		return
	}
	o.seen[msg] = true
	fmt.Fprintf(o.w, "osrun: warning: %s\n", msg)
}
