wave "drain" {
  hosts = group.updating

  task "lb_member" "out" {
    state = "disabled"
    until = task.lb_member.out.changed # ERROR: Reference to a later task
  }
}
