host "fe01" {  # ERROR: Missing required argument
  stack   = "j2ee"
  roles   = ["controller", "frontend"]
}
host "fe02" {
  address = "10.0.0.12"
  stack   = "j2ee"
}
