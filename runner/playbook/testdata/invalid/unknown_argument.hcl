wave "drain" {
  hosts = group.updating

  task "lb_member" "out" {
    state = "disabled"
    drian = "5m" # ERROR: Unsupported argument
  }
}
