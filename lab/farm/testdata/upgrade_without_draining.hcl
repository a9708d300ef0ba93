# Negative control for the lab: the same installers, run on every front-end
# while the load balancer still sends them traffic. The lab must see
# requests fail; if it does not, its monitor is blind.

variable "target_version" {
  type = string
}

variable "dotnet_installer" {
  type    = string
  default = ""
}

variable "j2ee_installer" {
  type    = string
  default = ""
}

variable "drain_timeout" {
  type    = string
  default = "10m"
}

variable "app_path" {
  type    = string
  default = "/"
}

wave "upgrade_in_rotation" {
  description = "Installer on every front-end, half of each zone at a time, nothing drained"
  hosts       = group.frontends
  serial      = ["50%"]

  task "installer" "everyone" {
    version = var.target_version
    source  = host.stack == "dotnet" ? var.dotnet_installer : null
    script  = host.stack == "j2ee" ? var.j2ee_installer : null
  }
}
