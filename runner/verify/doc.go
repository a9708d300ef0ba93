// Package verify proves, before anything runs, that a playbook keeps an
// OutSystems farm serving while it upgrades it.
//
// Verify (and Simulate, which also returns the Trace for `osrun plan`)
// walks the waves, batches and tasks exactly as the runner would select
// them (runner.Plan) and applies the Effect each module declares to a model
// of the farm. The model starts with every front-end in rotation and
// deployment-enabled, and tracks per host: in rotation, deployment
// enabled, disrupted (while a disruptive task runs on it) and upgraded.
// The hosts of a batch run each task together, so they leave rotation and
// are disrupted together. It proves:
//
//  1. no disruptive task runs on a host that is in rotation;
//  2. every zone keeps, at every step, a front-end that is in rotation and
//     not disrupted (a host leaving rotation counts as out during the task
//     that takes it out, and a host entering it as out until that task ends);
//  3. the controller is upgraded only while every loaded front-end has
//     deployment disabled, and a loaded front-end gets deployment back only
//     once it is upgraded too (else Service Center would deploy applications
//     its platform cannot run);
//  4. at the end every front-end is back in rotation and deployment-enabled;
//  5. the controller is upgraded before any other host, in a batch of its
//     own (unless --limit leaves it out of the run).
//
// Each violation is an error diagnostic located at the offending task (or
// the task whose change was never undone), naming the wave, batch, host and
// the state at that moment; a task that repeats the violation on further
// hosts adds them to the same diagnostic.
//
// Expressions see var.* and host.* as at run time, and task.* as far as
// the simulation knows it: a task that has not run on the host reads as
// skipped, exactly as it will; the result of one that has is unknown.
// What is not known before the run is handled conservatively and never
// passed silently:
//   - a when that depends on an unknown result is assumed true (the task runs);
//     that is what rules 1 to 3 need for disruptive and upgrading tasks, and
//     for any task that changes rotation or deployment it is also reported
//     as a "could not verify" warning, since the run may skip it;
//   - arguments that read task.* results, and secrets (the verifier reads
//     none), are unknown: the module's Effects is tried with every value such
//     an argument can take (its OneOf values, true and false); if the effect
//     differs, or Effects needs a value it cannot have, the task gets a
//     warning and counts only as disruptive/upgrading if any variant is;
//   - a task with check_mode = true never changes anything and has no
//     effect; a task that drains or disables deployment with
//     ignore_errors = true gets a warning, since a failure would let later
//     tasks run on a host still in rotation.
//
// The CLI calls it after loading, before planning or applying anything, and
// reports the diagnostics like the loader's:
//
//	if err := l.report(verify.Verify(pb, inv, limit)); err != nil {
//		return err // errors: nothing is changed; warnings are printed only
//	}
//
// `osrun plan` can print Simulate's Trace: per step, the hosts the task
// runs on, each host's state and Step.Serving per zone.
//
// Modules that declare no Effects (command, host scripts) are taken to
// have none: a playbook that stops IIS through command escapes the proof.
// The state of the farm before the run is assumed, not read: a --limit run
// that resumes a half-done upgrade is verified as if nothing had happened.
//
// The run may stop after any step (an interrupt lets the steps under way
// finish; a failure budget is checked between batches) and then runs the
// on_failure waves. From every such point the verifier runs them too and
// proves rules 1 and 2 for them: a restore must not disrupt a host in
// rotation nor leave a zone unserved. It may leave hosts out of rotation or
// deployment-disabled on purpose, so rules 3 to 5 are not applied, and its
// could-not-verify warnings are not reported, since restore tasks depend
// on what the run did by design.
//
// The verifier proves the successful path and stops between steps; a host
// whose own task failed (a drain that did not happen, an installer that
// broke the host) is not modelled: that is left to lb_member's
// min_in_rotation guard at run time.
package verify
