wave "drain" {
  hosts = group.updating
}

on_failure "drain" { # ERROR: Duplicate wave
  hosts = group.updating
}
