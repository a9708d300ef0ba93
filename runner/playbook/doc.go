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
// evaluates a Task's When, Args and Until against it, recording each result
// with ResultValue so later tasks can read it.
//
// # Language
//
//	inventory = "../lab/inventory.hcl"   # optional, relative to the playbook
//
//	variable "target_version" {          # --var-file, then --var, override the default
//	  type        = string
//	  default     = "11.31.0"
//	  description = "..."
//	}
//
//	wave "drain_updating" {
//	  description         = "..."
//	  hosts               = group.updating        # or [group.updating, host.fe01]
//	  exclude             = [group.controller]
//	  serial              = [1, "50%"]            # batch sizes; the last repeats
//	  max_fail_percentage = 0
//	  gate = {                                    # ask a person before the wave's tasks
//	    instructions = "Check the rehearsal, then approve."
//	    id           = "drain_updating"           # optional: the wave's name
//	    timeout      = "2h"                       # optional: 1h; no answer stops the run
//	  }
//
//	  task "lb_member" "out" {                    # module, name
//	    on            = "control"                 # or "host"; default from the module
//	    when          = host.stack == "dotnet"
//	    timeout       = "10m"                     # for each attempt
//	    retries       = 3                         # more attempts after an error or a false until
//	    delay         = "10s"
//	    until         = self.output.state == "disabled"
//	    ignore_errors = false
//	    check_mode    = false                     # false: apply even under --check
//	    state         = "disabled"                # the rest are module arguments
//	  }
//	}
//
//	on_failure "restore_rotation" {               # same body as a wave
//	  hosts = group.updating
//	  task "lb_member" "back_in" {
//	    when  = task.lb_member.out.changed         # only where the run took it out
//	    state = "enabled"
//	  }
//	}
//
// A wave's gate becomes its first task, gate.<wave> of module gate, on the
// control machine with the gate's timeout (see gate.go), so it is journalled,
// resumed, planned and checked like any task; no task may take that name.
// Gate ids known before the run, the wave gates' and the gate tasks', are
// unique. on_failure waves have no gate: a restore must not wait for a
// person.
//
// on_failure waves run, in order, only when a run stops early (a wave's
// failures exceed its budget, or an interrupt), to put the farm back in a
// safe state; wherever they are written, their tasks come after every
// wave's, so they may read any wave task's result. Wave names, on_failure
// ones included, are unique.
//
// Host sets are bare references (group.NAME, host.NAME), never strings.
// Wave attributes and the task meta-arguments other than when and until are
// decided before any host runs, so they may use var.* only. when, until and
// module arguments may also use host.* (inventory.HostValue), the results of
// earlier tasks on the same host as task.MODULE.NAME.{changed, failed,
// skipped, status, msg, error, output, and each output key}, and, in until
// only, self. A task that has not run on the host reads as skipped; try()
// and can() guard outputs it may not have. The functions are the
// inventory's (env and file, the only sources of secrets, plus the cty
// standard library).
//
// In check mode a task is tried once: until is not evaluated, because a
// prediction does not change by waiting for it.
package playbook
