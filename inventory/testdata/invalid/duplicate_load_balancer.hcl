load_balancer "main" {
  driver = "haproxy"
}
load_balancer "main" {  # ERROR: Duplicate load balancer
  driver = "f5"
}
host "fe01" {
  address = "10.0.0.11"
  stack   = "j2ee"
  roles   = ["controller", "frontend"]
}
host "fe02" {
  address = "10.0.0.12"
  stack   = "j2ee"
}
