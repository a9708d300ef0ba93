# on_failure waves run after every wave, wherever they are written: a wave
# cannot read their results.
on_failure "restore" {
  hosts = group.updating

  task "lb_member" "back_in" {
    state = "enabled"
  }
}

wave "drain" {
  hosts = group.updating

  task "lb_member" "out" {
    state = "disabled"
    when  = task.lb_member.back_in.skipped # ERROR: Reference to a later task
  }
}
