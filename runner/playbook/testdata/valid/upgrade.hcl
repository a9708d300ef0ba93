inventory = "../inventory.hcl"

variable "target_version" {
  description = "Platform Server version to install"
  type        = string
  default     = "11.31.0"
}

variable "batch" {
  type    = number
  default = 1
}

wave "drain_updating" {
  description = "Take the updating front-ends out of rotation"
  hosts       = group.updating
  exclude     = [group.controller]
  serial      = [1, "50%"]

  task "lb_member" "out" {
    state = "disabled"
    drain = "5m"
    retries = 3
    delay   = "1s"
    until   = self.output.state == "disabled"
  }
}

wave "upgrade_updating" {
  hosts               = [host.ctl, group.updating]
  serial              = var.batch
  max_fail_percentage = 50

  task "command" "version" {
    cmd        = "cat /opt/outsystems/version"
    check_mode = false
  }

  task "installer" "platform" {
    version = var.target_version
    when    = task.command.version.output.stdout != var.target_version
    timeout = "45m"
    on      = "host"
  }

  task "command" "smoke" {
    cmd           = "curl -fsS http://${host.address}/ping"
    when          = task.installer.platform.changed && host.stack == "dotnet"
    ignore_errors = true
  }
}

wave "swap" {
  hosts = group.all

  task "lb_member" "swap" {
    state    = host.split == "updating" ? "enabled" : "disabled"
    password = env("OSRUN_LB_PASSWORD")
  }
}
