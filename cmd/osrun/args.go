package main

import "strings"

// boolFlags are the flags that take no value; every other flag consumes the
// next argument unless written as --flag=value.
var boolFlags = map[string]bool{
	"check": true, "C": true, "diff": true, "D": true, "json": true,
	"help": true, "h": true, "version": true, "v": true, "break-stale-lock": true, "resume": true, "allow-unsafe-plan": true, "skip-preflight": true, "deny": true, "lab": true, "live": true,
}

// interspersed moves a subcommand's flags ahead of its positional
// arguments, because urfave/cli v2 stops reading flags at the first
// positional one and operators naturally write
// `osrun apply playbooks/upgrade.hcl --check`.
func interspersed(args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	i := 1
	// Global flags before the subcommand stay where they are.
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		out = append(out, args[i])
		i++
	}
	if i >= len(args) {
		return out
	}
	out = append(out, args[i]) // the subcommand
	i++
	var flags, positional []string
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") || boolFlags[name] {
			continue
		}
		if i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	out = append(out, flags...)
	return append(out, positional...)
}
