// Package moduletest holds the checks every module's own tests make of its
// Definition, so each module states only what differs: the inventory its
// documented example needs.
//
// Entry point: CheckExample, usually with Hosts as part of the inventory.
package moduletest
