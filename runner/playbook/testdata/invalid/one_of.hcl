wave "drain" {
  hosts = group.updating

  task "lb_member" "out" {
    state = "disable" # ERROR: Invalid value for argument
  }
}
