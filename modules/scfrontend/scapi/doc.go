// Package scapi is the client side of the HTTP contract osrun uses to talk
// to Service Center about front-ends: read and set a front-end's deployment
// state, and read its Deployment Service threads. Service Center has no
// public API for either, so the contract is osrun's own (CONTRACT.md in the
// parent directory); an organisation implements it, or reshapes the requests
// with settings of the service_center block (method, URL and body templates,
// headers with secret references, expected statuses, where the answer's
// state is in the JSON) to reach its own integration.
//
// Entry points: Resolve finds a host's service_center endpoint, New builds a
// Client from an "http" endpoint, and Client.Deployment, SetDeployment and
// Deployer make the calls. Open does the first two for a module step and
// also accepts a "manual" endpoint, giving a Target; Operator asks the
// operator for a manual step through an approval gate, once per host.
package scapi
