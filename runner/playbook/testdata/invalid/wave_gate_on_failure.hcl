wave "upgrade" {
  hosts = group.updating

  task "installer" "platform" {
    version = "11.31.0"
  }
}

on_failure "restore" {
  hosts = group.updating
  gate = { # ERROR: Gate in an on_failure wave
    instructions = "Look before restoring."
  }

  task "command" "restore" {
    cmd = "true"
  }
}
