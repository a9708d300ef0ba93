// Package member holds the values every load-balancer driver speaks in: the
// administrative State of a pool member, the Status a driver reads back, and
// the errors callers branch on. It has no behaviour of its own so that the
// drivers, the lb_member module and the conformance suite can all share it
// without importing each other.
package member
