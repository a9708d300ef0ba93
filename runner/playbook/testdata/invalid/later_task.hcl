wave "upgrade" {
  hosts = group.updating

  task "installer" "platform" {
    version = "11.31.0"
    when    = task.command.version.output.stdout != "11.31.0" # ERROR: Reference to a later task
  }

  task "command" "version" {
    cmd = "cat /opt/outsystems/version"
  }
}
