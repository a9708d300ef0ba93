zone "zone_a" {}
host "fe01" {
  address = "10.0.0.11"
  stack   = "j2ee"
  roles   = ["controller", "frontend"]
  zone    = zone.zone_b  # ERROR: Unknown zone
}
host "fe02" {
  address = "10.0.0.12"
  stack   = "j2ee"
}
