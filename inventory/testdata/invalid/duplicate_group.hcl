host "fe01" {
  address = "10.0.0.11"
  stack   = "j2ee"
  roles   = ["controller", "frontend"]
}
host "fe02" {
  address = "10.0.0.12"
  stack   = "j2ee"
}
group "lisbon" {
  hosts = [host.fe01]
}
group "lisbon" {  # ERROR: Duplicate group
  hosts = [host.fe02]
}
