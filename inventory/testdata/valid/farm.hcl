# A two-zone farm: a .NET controller/front-end with three more front-ends
# in Lisbon, and two Java front-ends in Porto behind their own balancer.
defaults {
  ssh {
    user              = "osadmin"
    private_key       = "~/.ssh/id_ed25519"
    known_hosts       = ["~/.ssh/known_hosts"]
    host_key_checking = "strict"
    become            = true
    dial_timeout      = "10s"
    command_timeout   = "2h"
    keepalive         = "15s"
  }
  winrm {
    user              = "CORP\\osadmin"
    password          = env("OSRUN_WINRM_PASSWORD")
    https             = true
    auth              = "ntlm"
    operation_timeout = "50s"
    timeout           = "60s"
    command_timeout   = "2h"
  }
}

load_balancer "lisbon" {
  driver  = "haproxy"
  socket  = "/run/haproxy/admin.sock"
  backend = "outsystems"
}

load_balancer "porto" {
  driver   = "f5"
  url      = "https://f5.porto.example"
  pool     = "outsystems"
  password = env("OSRUN_F5_PASSWORD")
}

service_center "main" {
  driver = "http"
  url    = "https://sc.example/ServiceCenter"
}

zone "lisbon" {
  load_balancer = load_balancer.lisbon
}

zone "porto" {
  load_balancer = load_balancer.porto
}

host "fe01" {
  address = "10.0.0.11"
  stack   = "dotnet"
  zone    = zone.lisbon
  roles   = ["controller", "frontend"]
  vars    = { site = "lisbon" }
}

host "fe02" {
  address = "10.0.0.12"
  stack   = "dotnet"
  zone    = zone.lisbon
  member  = "FE02"
  winrm {
    port  = 5985
    https = false
  }
}

host "fe03" {
  address = "10.0.0.13"
  stack   = "dotnet"
  zone    = zone.lisbon
}

host "fe04" {
  address = "10.0.0.14"
  stack   = "dotnet"
  zone    = zone.lisbon
}

host "pt01" {
  address = "10.1.0.11"
  stack   = "j2ee"
  zone    = zone.porto
}

host "pt02" {
  address = "10.1.0.12"
  stack   = "j2ee"
  zone    = zone.porto
  ssh {
    port = 2222
  }
}

group "lisbon" {
  hosts = [host.fe01, host.fe02, host.fe03, host.fe04]
}

group "java" {
  hosts = [host.pt01, host.pt02]
}

group "everything" {
  hosts = [group.lisbon, group.java]
}

split {
  updating = [host.fe01, host.fe02, host.pt01]
  loaded   = [host.fe03, host.fe04, host.pt02]
}
