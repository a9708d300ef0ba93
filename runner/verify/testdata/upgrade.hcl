# The balanced upgrade in the shape of the procedure
# (reference/balanced-platform-upgrade.txt). The tests mutate it.
variable "target_version" {
  default = "11.31.0"
}

wave "drain_updating" {
  description = "Take the updating set, controller included, out of the load balancer"
  hosts       = group.updating

  task "lb_member" "out" {
    state = "disabled"
  }
}

wave "disable_deployment_on_loaded" {
  description = "Service Center must not deploy to the loaded front-ends meanwhile"
  hosts       = group.loaded

  task "sc_frontend" "disable" {
    deployment = "disabled"
  }
}

wave "upgrade_updating" {
  description = "The controller first, then the updating front-ends"
  hosts       = [group.controller, group.updating]
  serial      = 1

  task "service" "stop_iis" {
    when  = host.stack == "dotnet"
    name  = "W3SVC"
    state = "stopped"
  }

  task "installer" "platform" {
    version        = var.target_version
    admin_password = env("OSRUN_TEST_ADMIN_PASSWORD")
  }

  task "command" "reboot_if_needed" {
    when = task.installer.platform.changed
    cmd  = "true"
  }
}

wave "test_updating" {
  hosts = group.updating

  task "http_check" "apps" {
    url = "http://${host.address}/"
  }
}

wave "switch_in_updating" {
  description = "The upgraded set takes the traffic..."
  hosts       = group.updating

  task "lb_member" "in" {
    state = "enabled"
  }
}

wave "switch_out_loaded" {
  description = "...and the loaded set leaves"
  hosts       = group.loaded

  task "lb_member" "out_loaded" {
    state = "disabled"
  }
}

wave "upgrade_loaded" {
  hosts  = group.loaded
  serial = ["50%"]

  task "installer" "platform_loaded" {
    version = var.target_version
  }
}

wave "enable_deployment_on_loaded" {
  hosts = group.loaded

  task "sc_frontend" "enable" {
    deployment = "enabled"
  }

  task "service" "deployer" {
    name    = "deployer"
    state   = "running"
    startup = "automatic"
  }
}

wave "wait_deployment" {
  hosts = group.loaded

  task "wait_deployer" "sleeping" {}
}

wave "all_in" {
  hosts = group.loaded

  task "lb_member" "in_loaded" {
    state = "enabled"
  }
}
