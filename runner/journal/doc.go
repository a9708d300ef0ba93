// Package journal keeps the durable record of a run: an append-only JSON
// Lines file of the run's events, synced to disk before and after every
// step on every host, so that a crashed or interrupted run can be resumed
// at the exact wave, batch, task and host; and the lock that stops two runs
// from working on the same farm at once.
//
// Entry points: Create (a new journal, which is a runner.Sink), Read (the
// State recorded by an earlier run), Latest (the newest journal in a state
// directory), and Acquire (the farm lock).
package journal
