wave "upgrade" {
  hosts = group.updating

  task "installer" "platform" {
    version = "11.31.0"
    timeout = "10 minutes" # ERROR: Invalid duration
  }
}
