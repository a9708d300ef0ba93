host "fe01" {
  address = "10.0.0.11"
  stack   = "j2ee"
  roles   = ["controller", "frontend"]
}
host "fe02" {
  address = "10.0.0.12"
  stack   = "j2ee"
}
host "fe03" {  # ERROR: Front-end missing from split
  address = "10.0.0.13"
  stack   = "j2ee"
}
split {
  updating = [host.fe01]
  loaded   = [host.fe02]
}
