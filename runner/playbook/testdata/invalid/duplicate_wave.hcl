wave "drain" {
  hosts = group.updating
}

wave "drain" { # ERROR: Duplicate wave
  hosts = group.loaded
}
