wave "drain" {
  hosts               = group.updating
  max_fail_percentage = 150 # ERROR: Invalid max_fail_percentage
}
