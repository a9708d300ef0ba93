wave "drain" { # ERROR: Missing required argument
  description = "no hosts"
}
