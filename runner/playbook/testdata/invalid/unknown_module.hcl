wave "drain" {
  hosts = group.updating

  task "lb_membr" "out" { # ERROR: Unknown module
    state = "disabled"
  }
}
