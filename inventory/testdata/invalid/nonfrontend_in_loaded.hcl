host "fe01" {
  address = "10.0.0.11"
  stack   = "j2ee"
  roles   = ["controller", "frontend"]
}
host "fe02" {
  address = "10.0.0.12"
  stack   = "j2ee"
}
host "db01" {
  address = "10.0.0.20"
  stack   = "j2ee"
  roles   = []
}
split {
  updating = [host.fe01]
  loaded   = [host.fe02, host.db01]  # ERROR: Non-front-end in loaded set
}
