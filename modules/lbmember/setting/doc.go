// Package setting decodes the driver settings of a load_balancer block
// (inventory.Endpoint.Settings) for the lb_member drivers. A Reader
// collects every problem, refuses secrets written as literals and reports
// settings that no driver read, so a typo fails before anything is touched.
//
// Entry point: New, then typed getters, then Err.
package setting
