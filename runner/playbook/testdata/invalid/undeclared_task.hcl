wave "upgrade" {
  hosts = group.updating

  task "command" "version" {
    cmd = "cat /opt/outsystems/version"
  }

  task "installer" "platform" {
    version = "11.31.0"
    when    = task.command.versoin.changed # ERROR: Reference to undeclared task
  }
}
