variable "target_version" {
  default = "11.31.0"
}

wave "upgrade" {
  hosts = group.updating

  task "installer" "platform" {
    version = var.target # ERROR: Reference to undeclared variable
  }
}
