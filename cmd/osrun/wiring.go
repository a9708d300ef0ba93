package main

import (
	"io"

	"github.com/osrun/osrun/runner"
	"github.com/osrun/osrun/transports/local"
)

// dialers maps an inventory host's transport name to the dialer that opens
// its connection. Warnings (e.g. host key checking turned off) go to warn.
func dialers(warn io.Writer) map[string]runner.Dialer {
	return map[string]runner.Dialer{
		"local": local.Dialer{},
	}
}
