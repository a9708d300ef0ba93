wave "drain" {
  hosts = group.updating

  task "lb_member" "out" {
    state = "disabled"
  }
  task "lb_member" "again" {
    state = "disabled"
    when  = "succeeded" != task.lb_member.out.status # ERROR: Impossible task status
  }
}
