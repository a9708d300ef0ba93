wave "drain" {
  hosts = group.updatng # ERROR: Unknown group
}
