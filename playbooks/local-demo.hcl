# A rehearsal of the balanced upgrade's shape on the local transport: the
# updating set is "upgraded" first, then the loaded set, and each host
# records its platform version in a file. Run it twice: the second run
# changes nothing.
#
#   go run ./cmd/osrun apply playbooks/local-demo.hcl
inventory = "../examples/local/inventory.hcl"

variable "target_version" {
  default     = "11.31.0"
  description = "Platform Server version the demo installs"
}

wave "prepare" {
  description = "Give every host a platform directory at the old version"
  hosts       = group.all

  task "command" "platform_dir" {
    command = "mkdir -p ${host.vars.dir} && echo 11.29.1 > ${host.vars.dir}/version.txt"
    creates = "${host.vars.dir}/version.txt"
  }
}

wave "upgrade_updating" {
  description = "Upgrade the controller and the updating front-ends"
  hosts       = group.updating
  serial      = 1

  task "command" "upgrade_updating" {
    command = "echo ${var.target_version} > ${host.vars.dir}/version.txt && touch ${host.vars.dir}/upgraded-${var.target_version}"
    creates = "${host.vars.dir}/upgraded-${var.target_version}"
  }
}

wave "upgrade_loaded" {
  description = "Upgrade the loaded front-ends once the updating ones serve"
  hosts       = group.loaded
  serial      = ["50%"]

  task "command" "upgrade_loaded" {
    command = "echo ${var.target_version} > ${host.vars.dir}/version.txt && touch ${host.vars.dir}/upgraded-${var.target_version}"
    creates = "${host.vars.dir}/upgraded-${var.target_version}"
  }

  task "command" "read_version" {
    command = "cat ${host.vars.dir}/version.txt"
    when    = task.command.upgrade_loaded.changed
  }
}
