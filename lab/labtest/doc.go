// Package labtest holds helpers for the lab's tests: building a module's
// action from plain Go arguments the way the playbook loader would, and an
// Env with a progress log, so a simulated host's test drives the real
// module through the real transport.
//
// Entry points: Action, Env.
package labtest
