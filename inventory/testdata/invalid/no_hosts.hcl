# ERROR: No hosts
load_balancer "main" {
  driver = "haproxy"
}
