// Package dataplane is the lb_member driver for the HAProxy Data Plane API
// (the REST service beside HAProxy, Basic auth), for farms that expose it
// rather than the runtime socket.
//
// The url setting includes the API version, http://lb:5555/v2 or /v3; the
// runtime server paths differ between them:
//
//	v2: /services/haproxy/runtime/servers/S?backend=B
//	v3: /services/haproxy/runtime/backends/B/servers/S
//
// State changes are PUT {"admin_state":"ready|drain|maint"}: runtime only,
// applied through the runtime socket at once, not persisted. Sessions and
// the health status come from /services/haproxy/stats/native (scur+qcur,
// status), whose "status" is read like the runtime API's: a server between
// checks ("UP 1/3") is not yet healthy.
//
// Entry points: FromEndpoint, New.
package dataplane
