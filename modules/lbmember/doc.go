// Package lbmember is the lb_member module: it puts a front-end into or out
// of its load-balancer pool (enabled, drained, disabled), waiting for the
// sessions to drain and for the balancer's health check, and refusing to
// leave a pool with fewer in-rotation members than min_in_rotation.
//
// The module runs on the control machine. For each host it finds the
// load_balancer of the host's zone, opens the Driver registered under the
// endpoint's driver name and talks about the host's Member name.
//
// Entry points: Definition (the module), Driver (what a balancer must do),
// Registry and Builtin (the explicit set of drivers). Drivers live in
// sub-packages (haproxy, dataplane, nginxplus, f5, netscaler, windowsnlb, command) and
// share the State and Status values of package member; lbtest holds the
// conformance suite every driver passes and an in-memory Fake.
package lbmember
