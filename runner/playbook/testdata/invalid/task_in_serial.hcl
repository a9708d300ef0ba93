wave "upgrade" {
  hosts  = group.updating
  serial = host.vars.batch # ERROR: Invalid reference
}
