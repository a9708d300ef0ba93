wave "upgrade" {
  hosts = group.updating

  task "command" "java" {
    cmd  = "java -version"
    when = host.stak == "j2ee" # ERROR: Unsupported attribute
  }
}
