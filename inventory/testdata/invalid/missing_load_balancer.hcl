load_balancer "lb1" {
  driver = "haproxy"
}
load_balancer "lb2" {
  driver = "haproxy"
}
zone "a" {  # ERROR: Missing load balancer
}
zone "b" {
  load_balancer = load_balancer.lb2
}
host "fe01" {
  address = "10.0.0.11"
  stack   = "j2ee"
  zone    = zone.a
  roles   = ["controller", "frontend"]
}
host "fe02" {
  address = "10.0.0.12"
  stack   = "j2ee"
  zone    = zone.a
}
