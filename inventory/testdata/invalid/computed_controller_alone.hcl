host "fe01" {  # ERROR: Zone without loaded front-end
  address = "10.0.0.11"
  stack   = "j2ee"
  roles   = ["controller", "frontend"]
}
