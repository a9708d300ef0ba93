# A task that has not run reads as skipped: its status is never "", so
# this condition would never hold, and the restore would never run.
wave "drain" {
  hosts = group.updating

  task "lb_member" "out" {
    state = "disabled"
  }
}

on_failure "restore" {
  hosts = group.updating

  task "lb_member" "back_in" {
    state = "enabled"
    when  = try(task.lb_member.out.status, "") == "" # ERROR: Impossible task status
  }
}
