variable "target_version" { # ERROR: Missing value for variable
  type = string
}

wave "upgrade" {
  hosts = group.updating

  task "installer" "platform" {
    version = var.target_version
  }
}
