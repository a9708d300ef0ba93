wave "upgrade" {
  hosts  = group.updating
  serial = 0 # ERROR: Invalid serial
}
