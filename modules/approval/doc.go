// Package approval holds the gates a run stops at when a step has to be done
// or confirmed by a person, because Service Center offers no API for it
// (front-end deployment enable/disable, Deployment Service thread status).
//
// A Gate is one way of obtaining the operator's "yes" for a gate id such as
// "sc_frontend.disable.fe03". The implementations are:
//
//   - TTY: prints the instructions and reads y/yes or n/no from a terminal;
//   - File: waits until `osrun approve <run> <gate>`, run from another shell
//     or pipeline step, writes an approval file (see Approve);
//   - Preapproved: approves ids granted up front with --approve, for
//     rehearsed unattended runs;
//   - Any: asks several gates at once; the first decision wins.
//
// A run typically combines them, showing the instructions once:
//
//	gate := approval.Any(
//		approval.Preapproved(approveFlags),
//		&approval.File{Dir: approval.RunDir(stateDir, runID), Out: stderr,
//			Command: "osrun approve " + runID, NoInstructions: interactive},
//		approval.NewTTY(os.Stdin, stderr), // only when stdin is a terminal
//	)
//
// A gate never decides on its own: when nobody answers before the context
// ends, Wait returns an error wrapping ErrTimeout (deadline) or the context's
// error, and the caller stops the run without having acted.
package approval
