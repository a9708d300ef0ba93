// Package httpcheck is the http_check module: it tests the applications on
// one front-end directly, at the host's own address and bypassing the load
// balancer, the guide's "Test your applications on the updating
// front-ends" step. A Host header (and TLS server name) lets the request
// reach the right site on a shared address.
//
// The request is read-only, so check mode sends it too (once, without
// retries) and reports what it got.
//
// Entry point: Definition.
package httpcheck
