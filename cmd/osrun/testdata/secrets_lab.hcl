# The lab upgrade (playbooks/upgrade.hcl) with secrets that surface, for
# TestSecretsLab (secrets_lab_test.go): a first wave has every front-end
# echo a token read with env() on stdout and stderr, in a command line, in
# a failing command's message and in PowerShell's "not recognized" error;
# the controller's installer sets the admin password from env(). osrun must
# mask every one of them wherever it writes. The Deployment Service's
# threads need to stay asleep for 500ms only, to keep the test short.

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

# The secrets' wave: every front-end, the updating set first.
wave "secrets_echo" {
  description = "Every front-end echoes a secret back"
  hosts       = [group.updating, group.loaded]

  # Succeeds: the secret is in the command line (the task's message) and in
  # its stdout (the task's output, journalled for a resume).
  task "command" "token_shown" {
    command = host.stack == "dotnet" ? "[Console]::Out.Write('shown token=${env("OSRUN_LAB_TOKEN")}')" : "echo 'shown token=${env("OSRUN_LAB_TOKEN")}'"
  }

  # Fails: the secret is on stdout, on stderr and so in the error.
  task "command" "token_failed" {
    command       = host.stack == "dotnet" ? "[Console]::Out.Write('out token=${env("OSRUN_LAB_TOKEN")}'); [Console]::Error.Write('bad token=${env("OSRUN_LAB_TOKEN")}'); exit 3" : "echo 'out token=${env("OSRUN_LAB_TOKEN")}'; echo 'bad token=${env("OSRUN_LAB_TOKEN")}' >&2; exit 3"
    ignore_errors = true
  }

  # Fails as a mistyped command does: the shell names it in its error.
  task "command" "token_run" {
    command       = env("OSRUN_LAB_WORD")
    ignore_errors = true
  }
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
    version        = var.target_version
    admin_password = contains(host.roles, "controller") && host.stack == "dotnet" ? env("OSRUN_LAB_ADMIN_PASSWORD") : null
    source         = host.stack == "dotnet" ? var.dotnet_installer : null
    sha256         = host.stack == "dotnet" && var.dotnet_installer_sha256 != "" ? var.dotnet_installer_sha256 : null
    script         = host.stack == "j2ee" ? var.j2ee_installer : null
    timeout        = "90m"
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
    stable       = "500ms" # the lab's deployments settle at once
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
# were taken out for their upgrade but whose installer never started: they
# still run the version the farm ran before, as they did while serving.
# Front-ends whose installer started or failed stay out of rotation, and
# deployment stays as it is: re-enabling it on an old-version front-end after
# the controller's upgrade would deploy new components onto the old platform.
# `osrun status` and the run's report say where each front-end stands.
on_failure "restore_loaded_rotation" {
  description = "Load balancer: loaded front-ends that were not upgraded back in"
  hosts       = group.loaded

  task "lb_member" "restore_loaded" {
    when  = try(task.lb_member.loaded_out.status, "") == "changed" && try(task.installer.loaded.status, "") == ""
    state = "enabled"
  }
}
