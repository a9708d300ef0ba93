// Package builtin assembles osrun's built-in modules into one explicit
// registry. Adding a module means adding it to the list below; nothing
// registers itself.
package builtin

import (
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/command"
)

// Options carries what built-in modules need from the program around them.
type Options struct{}

// Registry returns the registry of built-in modules.
func Registry(opts Options) (*modules.Registry, error) {
	return modules.NewRegistry(
		command.Definition(),
	)
}
