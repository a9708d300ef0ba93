service_center "main" {
  driver = "http"
}
zone "a" {
  service_center = service_center.nope  # ERROR: Unknown Service Center
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
