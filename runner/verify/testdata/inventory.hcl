# Two zones, mixed stacks, one controller that is also a front-end.
# The computed split: updating = dc01, fe02 (lisbon), fe04 (porto);
# loaded = fe03 (lisbon), fe05, fe06 (porto).
load_balancer "main" {
  driver  = "haproxy"
  socket  = "/run/haproxy/admin.sock"
  backend = "outsystems"
}

service_center "main" {
  driver = "manual"
}

zone "lisbon" {}

zone "porto" {}

host "dc01" {
  address = "10.20.0.10"
  stack   = "dotnet"
  zone    = zone.lisbon
  roles   = ["controller", "frontend"]
}

host "fe02" {
  address = "10.20.0.11"
  stack   = "dotnet"
  zone    = zone.lisbon
}

host "fe03" {
  address = "10.20.0.12"
  stack   = "j2ee"
  zone    = zone.lisbon
}

host "fe04" {
  address = "10.30.0.11"
  stack   = "j2ee"
  zone    = zone.porto
}

host "fe05" {
  address = "10.30.0.12"
  stack   = "dotnet"
  zone    = zone.porto
}

host "fe06" {
  address = "10.30.0.13"
  stack   = "j2ee"
  zone    = zone.porto
}
