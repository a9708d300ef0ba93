# Balanced Platform Upgrade on Highly Loaded OutSystems Farms.
#
# The front-ends of each zone are split into an updating set (always with the
# Deployment Controller server) and a loaded set; `osrun inventory` shows the
# split. Every zone keeps serving from one set while the other is upgraded.
# Each wave below is one step of OutSystems' guide, in the guide's order.
#
#   osrun apply --check -i farm.hcl playbooks/upgrade.hcl   # rehearse
#   osrun apply         -i farm.hcl playbooks/upgrade.hcl   # upgrade
#   osrun apply --lab playbooks/upgrade.hcl                 # on the built-in lab farm

variable "target_version" {
  description = "The Platform Server version to install, e.g. 11.31.0"
  type        = string
}

variable "dotnet_installer" {
  description = ".NET front-ends: PlatformServer-<version>.exe on this machine (uploaded, SHA-256 verified)"
  type        = string
  default     = ""
}

variable "dotnet_installer_sha256" {
  description = "SHA-256 of dotnet_installer; empty to trust the file as it is"
  type        = string
  default     = ""
}

variable "j2ee_installer" {
  description = "J2EE front-ends: the installer script on this machine (uploaded, run as root)"
  type        = string
  default     = ""
}

variable "drain_timeout" {
  description = "How long a front-end may take to finish its sessions before the run stops"
  type        = string
  default     = "10m"
}

variable "app_path" {
  description = "An application path that must answer 200 on each upgraded front-end"
  type        = string
  default     = "/"
}

# Step 1. Set traffic on the load balancer to the loaded front-ends.
wave "updating_out_of_rotation" {
  description = "Load balancer: drain, then disable the updating front-ends"
  hosts       = group.updating

  task "lb_member" "updating_out" {
    when          = contains(host.roles, "frontend")
    state         = "disabled"
    drain_timeout = var.drain_timeout
  }
}

# Step 2. Disable deployment to the loaded front-ends in Service Center.
wave "loaded_deployment_disabled" {
  description = "Service Center: disable deployment on every loaded front-end"
  hosts       = group.loaded

  task "sc_frontend" "loaded_disable" {
    deployment = "disabled"
  }
}

# Step 3. Upgrade the Deployment Controller server first (a batch of its
# own), then the other updating front-ends.
wave "upgrade_updating" {
  description = "Installer: the Deployment Controller server, then the updating front-ends"
  hosts       = [group.controller, group.updating]
  serial      = [1, "100%"]

  task "installer" "updating" {
    version = var.target_version
    source  = host.stack == "dotnet" ? var.dotnet_installer : null
    sha256  = host.stack == "dotnet" && var.dotnet_installer_sha256 != "" ? var.dotnet_installer_sha256 : null
    script  = host.stack == "j2ee" ? var.j2ee_installer : null
    timeout = "90m"
  }
}

# Step 4. Test the applications directly on the updating front-ends.
wave "test_updating" {
  description = "Applications answer on each updating front-end, bypassing the balancer"
  hosts       = group.updating

  task "http_check" "updating_app" {
    when       = contains(host.roles, "frontend")
    path       = var.app_path
    body_regex = var.target_version
    retries    = 30
    delay      = "2s"
  }
}

# Step 5. Set traffic on the load balancer to the updating front-ends: add
# them first, then remove the loaded ones, so every zone keeps serving.
wave "updating_into_rotation" {
  description = "Load balancer: the upgraded front-ends back in"
  hosts       = group.updating

  task "lb_member" "updating_in" {
    when  = contains(host.roles, "frontend")
    state = "enabled"
  }
}

wave "loaded_out_of_rotation" {
  description = "Load balancer: drain, then disable the loaded front-ends"
  hosts       = group.loaded

  task "lb_member" "loaded_out" {
    state         = "disabled"
    drain_timeout = var.drain_timeout
  }
}

# Step 6. Upgrade the loaded front-ends.
wave "upgrade_loaded" {
  description = "Installer: the loaded front-ends"
  hosts       = group.loaded

  task "installer" "loaded" {
    version = var.target_version
    source  = host.stack == "dotnet" ? var.dotnet_installer : null
    sha256  = host.stack == "dotnet" && var.dotnet_installer_sha256 != "" ? var.dotnet_installer_sha256 : null
    script  = host.stack == "j2ee" ? var.j2ee_installer : null
    timeout = "90m"
  }
}

# The guide never says to re-enable deployment; OutSystems' zero-downtime
# summary does, and without it the loaded front-ends never get the new
# applications. Then step 7: make sure the Deployment Service runs there.
wave "loaded_deployment_enabled" {
  description = "Service Center: deployment back on; the Deployment Service running"
  hosts       = group.loaded

  task "sc_frontend" "loaded_enable" {
    deployment = "enabled"
  }

  task "service" "loaded_deployer" {
    name    = "deployer"
    state   = "running"
    startup = host.stack == "dotnet" ? "automatic" : null
  }
}

# Step 8. Wait until every Deployment Service thread is Sleeping.
wave "loaded_deployment_finished" {
  description = "Service Center: every Deployment Service thread of each loaded front-end asleep"
  hosts       = group.loaded

  task "wait_deployer" "loaded_threads_sleeping" {
    wait_timeout = "45m"
  }

  task "http_check" "loaded_app" {
    path       = var.app_path
    body_regex = var.target_version
    retries    = 30
    delay      = "2s"
  }
}

# Step 9. Reset traffic on the load balancer to all front-ends.
wave "loaded_into_rotation" {
  description = "Load balancer: every front-end in rotation"
  hosts       = group.loaded

  task "lb_member" "loaded_in" {
    state = "enabled"
  }
}

# If the run stops (a failed host stops it: the failure budget is 0 in every
# wave) or is interrupted, put back into rotation the loaded front-ends that
# were taken out (or were being taken out) for their upgrade but whose
# installer never started: they
# still run the version the farm ran before, as they did while serving.
# Front-ends whose installer started or failed stay out of rotation, and
# deployment stays as it is: re-enabling it on an old-version front-end after
# the controller's upgrade would deploy new components onto the old platform.
# `osrun status` and the run's report say where each front-end stands.
on_failure "restore_loaded_rotation" {
  description = "Load balancer: loaded front-ends that were not upgraded back in"
  hosts       = group.loaded

  task "lb_member" "restore_loaded" {
    # Taken out by this run, or on the way out when it failed or was
    # interrupted (it may be left drained); never "ok": that one was out of
    # rotation before the run. A task that has not run reads as skipped.
    when  = contains(["changed", "failed"], task.lb_member.loaded_out.status) && task.installer.loaded.status == "skipped"
    state = "enabled"
  }
}
