host "fe01" {
  address = "10.0.0.11"
  stack   = "j2ee"
  roles   = ["controller", "frontend"]
  ssh {
    become_password = "${"hunter"}2"  # ERROR: Secret in plain text
  }
}
host "fe02" {
  address = "10.0.0.12"
  stack   = "j2ee"
}
