host "fe01" {  # ERROR: Missing controller
  address = "10.0.0.11"
  stack   = "j2ee"
}
host "fe02" {
  address = "10.0.0.12"
  stack   = "j2ee"
}
