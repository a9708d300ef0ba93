// Package scfrontend is the sc_frontend module: it enables or disables
// deployment to a front-end in Service Center, the guide's "Disable
// deployment to loaded front-ends" step and its reverse.
//
// Service Center has no public API for this, so the module has two drivers,
// chosen by the service_center block of the host's zone: "http" calls the
// contract in CONTRACT.md (or an organisation's own integration, reshaped by
// settings; see package scapi), and "manual" tells the operator exactly
// what to click and waits at an approval gate (package approval).
//
// Entry point: Definition.
package scfrontend
