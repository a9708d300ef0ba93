wave "ask" {
  hosts = group.controller

  task "gate" "loaded" {
    id           = "upgrade_loaded"
    instructions = "Check the rehearsal, then approve."
  }
}

wave "upgrade_loaded" {
  hosts = group.updating
  gate  = { instructions = "Check the applications, then approve." } # ERROR: Duplicate gate id

  task "installer" "platform" {
    version = "11.31.0"
  }
}
