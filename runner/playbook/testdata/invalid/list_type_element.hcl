wave "upgrade" {
  hosts = group.updating

  task "installer" "platform" {
    version = "11.31.0"
    ports   = [80, "https"] # ERROR: Incorrect argument type
  }
}
