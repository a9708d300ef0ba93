// Package lb is the lab farm's load balancer: an HTTP reverse proxy on
// loopback that balances round-robin over the members of one backend, and a
// runtime API that answers the subset of HAProxy 2.6's stats socket that
// osrun's haproxy driver uses, byte for byte, over TCP and optionally a
// unix socket. The driver cannot tell it from a real HAProxy.
//
// It behaves like HAProxy configured with "balance roundrobin",
// "option httpchk GET <ping>", "check inter/rise/fall" and
// "option redispatch" with one retry:
//   - a member takes new requests only when its admin state is ready and
//     its own health checks say it is up; health follows HAProxy's rise and
//     fall counter, including "UP 1/3" after leaving maintenance;
//   - drain takes no new requests and lets those in flight finish; maint
//     also stops the checks; neither kills sessions, "shutdown sessions
//     server" does;
//   - a refused connection is retried once on another member, because
//     HAProxy retries connection failures; any answer, a 5xx included, and
//     any failure after the request was sent reach the client as they are.
//
// Each response carries X-Served-By naming the member, and every change of
// a member's admin state or health is reported to Config.OnEvent, which is
// how the lab's monitor sees rotation.
//
// The runtime API covers: show stat [{proxy|iid} type sid] [up|no-maint]
// (CSV only), show servers state [backend], set server B/S state
// ready|drain|maint, enable/disable server B/S, shutdown sessions server
// B/S, show backend, show version, help, prompt, quit, several commands per
// line separated by ';', and HAProxy's error strings. Other commands get
// HAProxy's "Unknown command" answer (suggestions by prefix only); every
// client has level admin.
//
// Health checks reuse one connection per member (HAProxy opens one per
// check), and a check may take 2s by default rather than one interval,
// because the lab's machine is busy; neither changes a verdict. With
// hundreds of members, raise CheckInterval to keep the checks' CPU low.
//
// Entry points: New, then URL for traffic, APIAddr or SocketPath for the
// driver, SetAdmin and Members for direct control; Close at the end.
// StartReal runs the real haproxy binary with the same configuration, for
// the lab's --lab-lb haproxy.
package lb
