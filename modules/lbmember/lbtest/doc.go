// Package lbtest is the conformance suite every lb_member driver passes
// (Run, in the style of restic's backend/test suite) and Fake, an in-memory
// pool for testing the lb_member module itself.
//
// A driver's test supplies a Harness: the driver under test plus hooks that
// act on the balancer from outside (open a session through it, fail a
// member's health check). The suite uses the hooks it is given and skips
// the cases whose hook is nil, saying so. CountedHold makes the Hold hook
// of a fake that counts sessions; WantError is the check of a driver's
// error-table tests.
package lbtest
