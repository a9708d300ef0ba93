play "drain" { # ERROR: Unsupported block type
  hosts = group.updating
}
