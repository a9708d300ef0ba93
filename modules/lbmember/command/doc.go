// Package command is the lb_member driver for balancers osrun has no
// driver for: the load_balancer block gives shell commands, run with
// /bin/sh -c on the control machine, that enable, drain, disable and
// report a member.
//
// Commands are Go templates over {{.Member}}, {{.State}} and {{.Pool}},
// each already quoted as one shell word (write them bare, not inside
// quotes), so a member name cannot inject
// commands; the same values are in the environment as OSRUN_MEMBER,
// OSRUN_STATE and OSRUN_POOL. A command that exits 3 means "no such
// member"; any other non-zero exit is a failure reported with its stderr.
//
// status prints one JSON object, members a JSON array of them (or one
// object per line):
//
//	{"name": "fe03", "state": "drained", "sessions": 12, "healthy": true, "detail": "DRAIN"}
//
// state is enabled, drained or disabled; healthy defaults to true for
// balancers without health checks; name is needed only from members.
//
// Entry points: FromEndpoint, New.
package command
