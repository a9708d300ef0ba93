zone "a" {}
zone "b" {}  # ERROR: Zone without updating front-end
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
host "fe03" {
  address = "10.0.0.13"
  stack   = "j2ee"
  zone    = zone.b
}
