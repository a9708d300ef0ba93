// Package f5test is a fake BIG-IP iControl REST API for tests: token login
// (and Basic auth), one LTM pool whose members answer the requests the f5
// driver makes with the documented bodies: the members collection, the
// stats with nestedStats entries keyed by a self link, PATCH of
// state/session (400 for "state":"up"), and the {"code","message",
// "errorStack"} errors, including 401 for a bad login or an expired token.
package f5test
