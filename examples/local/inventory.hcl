# A farm of four "front-ends" that all live on this machine (transport =
# "local"), so osrun's spine can be tried without any server: every task
# runs in a per-host directory under /tmp/osrun-demo.

zone "lisbon" {}
zone "porto" {}

host "ctl01" {
  address   = "127.0.0.1"
  stack     = "j2ee"
  transport = "local"
  zone      = zone.lisbon
  roles     = ["controller", "frontend"]
  vars      = { dir = "/tmp/osrun-demo/ctl01" }
}

host "fe02" {
  address   = "127.0.0.1"
  stack     = "j2ee"
  transport = "local"
  zone      = zone.lisbon
  vars      = { dir = "/tmp/osrun-demo/fe02" }
}

host "fe03" {
  address   = "127.0.0.1"
  stack     = "j2ee"
  transport = "local"
  zone      = zone.porto
  vars      = { dir = "/tmp/osrun-demo/fe03" }
}

host "fe04" {
  address   = "127.0.0.1"
  stack     = "j2ee"
  transport = "local"
  zone      = zone.porto
  vars      = { dir = "/tmp/osrun-demo/fe04" }
}
