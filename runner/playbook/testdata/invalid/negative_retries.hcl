wave "drain" {
  hosts = group.updating

  task "lb_member" "out" {
    state   = "disabled"
    retries = -1 # ERROR: Invalid value
  }
}
