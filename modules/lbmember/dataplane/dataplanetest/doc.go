// Package dataplanetest is a fake HAProxy Data Plane API for tests: one
// backend served on the v2 and v3 runtime server paths and the native
// stats endpoint, with Basic auth and the {"code","message"} errors of the
// specification. Leaving maint shows "UP 1/2" for one read, as HAProxy
// does before the first check after the change.
package dataplanetest
