wave "drain" {
  hosts = "group.updating" # ERROR: Invalid host reference
}
