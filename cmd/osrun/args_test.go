package main

import (
	"io"
	"slices"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestInterspersed(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"flags after playbook", []string{"osrun", "apply", "pb.hcl", "--check", "--var", "a=b"}, []string{"osrun", "apply", "--check", "--var", "a=b", "pb.hcl"}},
		{"flags before playbook unchanged", []string{"osrun", "apply", "-i", "inv.hcl", "pb.hcl"}, []string{"osrun", "apply", "-i", "inv.hcl", "pb.hcl"}},
		{"equals form", []string{"osrun", "plan", "pb.hcl", "--limit=fe01"}, []string{"osrun", "plan", "--limit=fe01", "pb.hcl"}},
		{"double dash keeps the rest positional", []string{"osrun", "apply", "--", "-odd.hcl"}, []string{"osrun", "apply", "--", "-odd.hcl"}},
		{"no subcommand", []string{"osrun", "--version"}, []string{"osrun", "--version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := interspersed(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("interspersed(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// Every flag that takes no value must be in boolFlags, or interspersed
// would take the argument after it (the playbook) as its value; no flag
// that takes one may be, or its value would become a positional argument.
func TestBoolFlagsListsEveryBoolFlag(t *testing.T) {
	app := newApp(nil, io.Discard, io.Discard)
	var cmds []*cli.Command
	var walk func([]*cli.Command)
	walk = func(cs []*cli.Command) {
		for _, c := range cs {
			cmds = append(cmds, c)
			walk(c.Subcommands)
		}
	}
	walk(app.Commands)
	for _, c := range cmds {
		for _, f := range c.Flags {
			_, isBool := f.(*cli.BoolFlag)
			for _, name := range f.Names() {
				switch {
				case isBool && !boolFlags[name]:
					t.Errorf("osrun %s: --%s takes no value but is not in boolFlags", c.Name, name)
				case !isBool && boolFlags[name]:
					t.Errorf("osrun %s: --%s takes a value but is in boolFlags", c.Name, name)
				}
			}
		}
	}
}
