wave "drain" {
  hosts   = [group.updating, host.fe09] # ERROR: Unknown host
}
