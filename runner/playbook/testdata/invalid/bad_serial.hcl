wave "upgrade" {
  hosts  = group.updating
  serial = [1, "0%"] # ERROR: Invalid serial
}
