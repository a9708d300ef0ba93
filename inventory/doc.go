// Package inventory loads and validates the HCL description of an
// OutSystems farm: hosts with their stack, zone and roles, connection
// defaults, groups, load balancers, Service Center endpoints and the
// balanced split of front-ends into an updating and a loaded set.
//
// Entry point: Load, which returns an *Inventory or located hcl.Diagnostics.
package inventory
