package main

import (
	"context"
	"errors"
)

// Exit codes, documented in README.md ("Exit codes"). They are mapped from
// errors here and nowhere else.
const (
	ExitOK          = 0   // everything succeeded (or, with --check, would succeed)
	ExitConfig      = 1   // usage, HCL or validation error: nothing was changed
	ExitHostFailed  = 2   // a task failed on at least one host
	ExitBudget      = 3   // the failure budget was exceeded, or a step was not approved: the run stopped early
	ExitPreflight   = 4   // the preflight found the farm not ready: nothing was changed
	ExitInterrupted = 130 // interrupted (Ctrl-C / SIGTERM): in-flight work was cancelled
)

// configError wraps problems found before anything ran. Its diagnostics
// have already been printed with their source snippets.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

// runError carries the exit code decided from a run's outcome.
type runError struct {
	code int
	msg  string
}

func (e *runError) Error() string { return e.msg }

// exitCode maps any error returned by a command to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var re *runError
	if errors.As(err, &re) {
		return re.code
	}
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	return ExitConfig
}
