// Package f5 is the lb_member driver for F5 BIG-IP LTM pool members over
// iControl REST.
//
// It logs in at /mgmt/shared/authn/login and sends the token as
// X-F5-Auth-Token (logging in again once when the token has expired), or
// uses Basic auth when auth = "basic" (local users, TMOS before 11.6).
// States map to the GUI's: enabled {"state":"user-up","session":"user-enabled"},
// drained = Disabled {"session":"user-disabled"} (persistent clients still
// arrive), disabled = Forced Offline {"state":"user-down","session":"user-disabled"}.
// Sessions are the member's serverside.curConns; the stats entries are
// iterated, never addressed by their self-link key, which varies by version.
//
// Members are named as F5 names them, "10.0.0.13:80" or "fe03:80" (node
// name and port), relative to the partition (default Common) or as a full
// path "/Common/fe03:80".
//
// Entry points: FromEndpoint, New.
package f5
