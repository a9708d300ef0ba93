# A small farm for playbook tests: one controller and five front-ends in
# two zones, reached over the local transport.
zone "east" {}

host "ctl" {
  address   = "10.0.0.1"
  stack     = "j2ee"
  transport = "local"
  roles     = ["controller"]
}

host "fe01" {
  address   = "10.0.0.11"
  stack     = "dotnet"
  transport = "local"
  roles     = ["frontend"]
  vars      = { pool = "web" }
}

host "fe02" {
  address   = "10.0.0.12"
  stack     = "dotnet"
  transport = "local"
  roles     = ["frontend"]
}

host "fe03" {
  address   = "10.0.0.13"
  stack     = "j2ee"
  transport = "local"
  roles     = ["frontend"]
  zone      = zone.east
}

host "fe04" {
  address   = "10.0.0.14"
  stack     = "j2ee"
  transport = "local"
  roles     = ["frontend"]
  zone      = zone.east
}

group "web" {
  hosts = [host.fe01, host.fe02]
}
