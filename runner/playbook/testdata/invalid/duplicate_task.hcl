wave "drain" {
  hosts = group.updating

  task "command" "check" {
    cmd = "true"
  }
}

wave "upgrade" {
  hosts = group.updating

  task "command" "check" { # ERROR: Duplicate task
    cmd = "false"
  }
}
