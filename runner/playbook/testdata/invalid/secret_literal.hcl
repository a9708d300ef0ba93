wave "drain" {
  hosts = group.updating

  task "lb_member" "out" {
    state    = "disabled"
    password = "hunter2" # ERROR: Secret in plain text
  }
}
