zone "a" {}
zone "b" {}
host "ctl" {
  address = "10.0.0.10"
  stack   = "j2ee"
  zone    = zone.a
  roles   = ["controller"]
}
host "fe01" {
  address = "10.0.0.11"
  stack   = "j2ee"
  zone    = zone.a
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
host "fe04" {
  address = "10.0.0.14"
  stack   = "j2ee"
  zone    = zone.b
}
split {
  updating = [host.ctl, host.fe01]  # ERROR: Zone without updating front-end
  loaded   = [host.fe02, host.fe03, host.fe04]
}
