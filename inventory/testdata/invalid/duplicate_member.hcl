host "fe01" {
  address = "10.0.0.11"
  stack   = "j2ee"
  roles   = ["controller", "frontend"]
}
host "fe02" {
  address = "10.0.0.12"
  stack   = "j2ee"
}
host "fe03" {
  address = "10.0.0.13"
  stack   = "j2ee"
  member  = "fe02"  # ERROR: Duplicate member name
}
load_balancer "main" {
  driver = "haproxy"
}
