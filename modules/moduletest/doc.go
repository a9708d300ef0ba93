// Package moduletest holds what every module's own tests do with its
// Definition, so each module states only what differs.
//
// Entry points: CheckExample decodes the documented example against an
// inventory (Hosts is a fragment most examples need) and checks the
// parameters' documentation; Args builds a task's arguments as the loader
// passes them to Definition.New.
package moduletest
