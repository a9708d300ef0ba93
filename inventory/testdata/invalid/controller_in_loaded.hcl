host "fe01" {
  address = "10.0.0.11"
  stack   = "j2ee"
  roles   = ["controller", "frontend"]
}
host "fe02" {
  address = "10.0.0.12"
  stack   = "j2ee"
}
split {
  updating = [host.fe02]
  loaded   = [host.fe01]  # ERROR: Controller in loaded set
}
