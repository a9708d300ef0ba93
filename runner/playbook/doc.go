// Package playbook loads osrun playbooks: HCL files of ordered waves, each
// a named step of the upgrade procedure over a set of hosts, holding ordered
// tasks that call modules.
//
// Loading is two steps so the CLI can find the inventory before decoding:
// Parse reads the syntax and the top-level schema (File.InventoryPath is
// known afterwards); File.Decode resolves host references against the
// inventory, checks every task against its module's parameters and every
// reference against what will exist at run time, and returns a Playbook.
// Everything that can be known without a host is checked here, so a run
// never starts on a playbook that would fail for a reason visible in its
// text.
//
// At run time the runner asks a Playbook for an EvalContext per host and
// evaluates a Task's when, arguments and until against it.
package playbook
