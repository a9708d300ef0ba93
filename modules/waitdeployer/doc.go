// Package waitdeployer is the wait_deployer module: it waits until the
// Deployment Service of a front-end has finished deploying, the guide's
// "wait until the status of all threads is 'Sleeping'" step before a loaded
// front-end returns to rotation.
//
// With an "http" service_center it polls the contract's thread status
// (modules/scfrontend/CONTRACT.md, package scapi) until every thread has
// been Sleeping or Idle for a stable period; with "manual" it asks the
// operator to confirm from Monitoring » Environment Health through an
// approval gate. It never changes anything.
//
// Entry point: Definition.
package waitdeployer
