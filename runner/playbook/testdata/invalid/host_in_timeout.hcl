wave "upgrade" {
  hosts = group.updating

  task "installer" "platform" {
    version = "11.31.0"
    timeout = host.vars.timeout # ERROR: Invalid reference
  }
}
