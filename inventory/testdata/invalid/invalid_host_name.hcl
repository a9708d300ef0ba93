host "fe 01" {  # ERROR: Invalid host name
  address = "10.0.0.11"
  stack   = "j2ee"
}
host "fe02" {
  address = "10.0.0.12"
  stack   = "j2ee"
  roles   = ["controller", "frontend"]
}
host "fe03" {
  address = "10.0.0.13"
  stack   = "j2ee"
}
