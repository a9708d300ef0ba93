wave "upgrade_loaded" {
  hosts = group.updating
  gate = {
    instructions = "Check the applications on the updating front-ends, then approve."
    timout       = "2h" # ERROR: Unsupported gate attribute
  }

  task "installer" "platform" {
    version = "11.31.0"
  }
}
