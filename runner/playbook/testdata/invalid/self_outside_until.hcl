wave "drain" {
  hosts = group.updating

  task "lb_member" "out" {
    state = "disabled"
    when  = self.changed # ERROR: Invalid reference
  }
}
