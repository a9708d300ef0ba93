wave "upgrade" {
  hosts = group.updating

  task "command" "shout" {
    cmd = uper(host.name) # ERROR: Call to unknown function
  }
}
