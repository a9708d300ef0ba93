wave "drain" {
  hosts = = group.updating # ERROR: Invalid expression
}
