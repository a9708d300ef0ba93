# A controller that serves no traffic, and three zones, one of them with a
# single loaded front-end per updating one.
zone "lisbon" {}

zone "porto" {}

zone "faro" {}

host "dc" {
  address = "10.20.0.5"
  stack   = "j2ee"
  zone    = zone.lisbon
  roles   = ["controller"]
}

host "lis1" {
  address = "10.20.0.11"
  stack   = "dotnet"
  zone    = zone.lisbon
}

host "lis2" {
  address = "10.20.0.12"
  stack   = "dotnet"
  zone    = zone.lisbon
}

host "opo1" {
  address = "10.30.0.11"
  stack   = "j2ee"
  zone    = zone.porto
}

host "opo2" {
  address = "10.30.0.12"
  stack   = "j2ee"
  zone    = zone.porto
}

host "opo3" {
  address = "10.30.0.13"
  stack   = "dotnet"
  zone    = zone.porto
}

host "fao1" {
  address = "10.40.0.11"
  stack   = "dotnet"
  zone    = zone.faro
}

host "fao2" {
  address = "10.40.0.12"
  stack   = "j2ee"
  zone    = zone.faro
}
