package main

import (
	"slices"
	"testing"
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
