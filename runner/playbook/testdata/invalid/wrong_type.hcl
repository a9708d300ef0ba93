wave "upgrade" {
  hosts = group.updating

  task "installer" "platform" {
    version = "11.31.0"
    reboot  = "maybe" # ERROR: Incorrect argument type
  }
}
