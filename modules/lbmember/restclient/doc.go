// Package restclient sends the JSON requests of the lb_member drivers that
// speak a balancer's REST API (dataplane, f5, netscaler, nginxplus): it
// encodes the body, bounds how much of the answer is read and decodes it.
// Authentication, the statuses that mean success and the shape of error
// bodies differ per API, so each driver keeps those.
//
// Entry points: NewRequest, Send, Decode.
package restclient
