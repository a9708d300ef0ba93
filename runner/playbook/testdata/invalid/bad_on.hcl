wave "drain" {
  hosts = group.updating

  task "lb_member" "out" {
    on    = "remote" # ERROR: Invalid value for on
    state = "disabled"
  }
}
