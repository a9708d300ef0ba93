// Package builtin assembles osrun's built-in modules into one explicit
// registry. Adding a module means adding it to the list below; nothing
// registers itself.
package builtin

import (
	"net/http"
	"time"

	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/approval"
	"github.com/osrun/osrun/modules/command"
	"github.com/osrun/osrun/modules/gate"
	"github.com/osrun/osrun/modules/httpcheck"
	"github.com/osrun/osrun/modules/installer"
	"github.com/osrun/osrun/modules/lbmember"
	"github.com/osrun/osrun/modules/scfrontend"
	"github.com/osrun/osrun/modules/service"
	"github.com/osrun/osrun/modules/waitdeployer"
)

// Options carries what built-in modules need from the program around them.
// The zero value is usable: manual steps then fail instead of waiting.
type Options struct {
	// Gate obtains the operator's approval for manual steps (the manual
	// Service Center drivers).
	Gate approval.Gate
	// PollInterval overrides how often modules poll load balancers, Service
	// Center and services; zero keeps each module's default. The lab farm
	// shortens it.
	PollInterval time.Duration
	// ServiceCenterTransport replaces the HTTP transport of the Service
	// Center drivers (the lab serves its simulator in memory).
	ServiceCenterTransport http.RoundTripper
}

// Registry returns the registry of built-in modules.
func Registry(opts Options) (*modules.Registry, error) {
	return modules.NewRegistry(
		command.Definition(),
		gate.Definition(gate.Options{Gate: opts.Gate}),
		lbmember.Definition(lbmember.Options{PollInterval: opts.PollInterval}),
		scfrontend.Definition(scfrontend.Options{Gate: opts.Gate, Transport: opts.ServiceCenterTransport, PollInterval: opts.PollInterval}),
		waitdeployer.Definition(waitdeployer.Options{Gate: opts.Gate, Transport: opts.ServiceCenterTransport}),
		httpcheck.Definition(httpcheck.Options{}),
		installer.Definition(installer.Options{}),
		service.Definition(service.Options{Poll: opts.PollInterval}),
	)
}
