// Package runner drives a decoded playbook against an inventory.
//
// Run executes waves in order and, inside a wave, batches in order. Inside
// a batch the hosts run in parallel (at most Options.Forks at once) and in
// lock-step: every host finishes a task before any host starts the next, so
// a batch never has hosts at different steps of the procedure. A host that
// fails is left alone for the rest of the run; when a wave's failures exceed
// its max_fail_percentage no further batch or wave starts. Everything that
// happens is reported as Events through one Sink, and Run returns a Recap
// whose Outcome the CLI maps to an exit code.
//
// When a run stops early (a budget exceeded, or ctx cancelled) the
// playbook's on_failure waves run, under a context of their own bounded by
// Options.OnFailureTimeout, so the interrupt that stopped the run does not
// stop the restore; Options.HardStop cuts them short. Their events carry
// OnFailure and their outcome is Recap.OnFailure.
//
// Options.Resume continues an earlier run from its record (journal.State):
// steps it finished are replayed with their recorded outputs, not run;
// steps it left in doubt are re-checked with Action.Check before anything
// is applied; the rest run as usual. The record is not trusted about the
// live farm, though: on each host, the last finished step that changes
// the host's rotation, the last that changes its deployment and the last
// that upgrades it (by the modules' declared Effects) are re-read with
// Action.Check when the run reaches them, and replayed only if Check
// finds nothing to do; otherwise they are applied again.
//
// Plan computes the same waves and batches without connecting to anything.
//
// The playbook language itself lives in runner/playbook.
package runner
