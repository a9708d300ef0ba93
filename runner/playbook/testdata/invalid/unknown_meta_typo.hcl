wave "upgrade" {
  hosts = group.updating

  task "installer" "platform" {
    version  = "11.31.0"
    timeuot  = "10m" # ERROR: Unsupported argument
  }
}
