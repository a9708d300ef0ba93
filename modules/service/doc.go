// Package service is the "service" module: it brings an OutSystems or OS
// service on a host to a state (running, stopped, restarted) and, on
// Windows, a startup type, waiting with a bounded poll until the host
// reports the state reached.
//
// Logical names (deployer, controller, scheduler, log, sms) map to the
// Windows service names ("OutSystems Deployment Service", ...) or to the
// sub-services of "service outsystems" on J2EE (DEPLOYER, CONTROLLER,
// SCHEDULER); any other name is used as a raw Windows or SysV service name.
// Every script it sends is a template under scripts/.
//
// Entry point: Definition.
package service
