wave "drain" {
  hosts = group.updating

  task "lb_member" "out" { # ERROR: Missing required argument
    drain = "5m"
  }
}
