# An example production farm: two zones, mixed stacks, HAProxy in front,
# Service Center reached through the http contract
# (modules/scfrontend/CONTRACT.md). Secrets come from the environment.
#
#   export OSRUN_WINRM_PASSWORD=... OSRUN_SC_TOKEN=...
#   osrun inventory -i examples/farm/inventory.hcl
#   osrun apply --check -i examples/farm/inventory.hcl --var target_version=11.31.0 playbooks/upgrade.hcl

defaults {
  ssh {
    user              = "osadmin"
    private_key       = "~/.ssh/id_ed25519"
    host_key_checking = "strict"
    become            = true
  }
  winrm {
    user     = "CORP\\osadmin"
    password = env("OSRUN_WINRM_PASSWORD")
    https    = true
  }
}

load_balancer "main" {
  driver  = "haproxy"
  socket  = "/run/haproxy/admin.sock"
  backend = "outsystems"
}

service_center "main" {
  driver = "http"
  url    = "https://sc.corp.example/osrun-api"
  token  = env("OSRUN_SC_TOKEN")
}

zone "lisbon" {
  load_balancer  = load_balancer.main
  service_center = service_center.main
}

zone "porto" {
  load_balancer  = load_balancer.main
  service_center = service_center.main
}

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
  stack   = "dotnet"
  zone    = zone.lisbon
}

host "fe04" {
  address = "10.30.0.11"
  stack   = "j2ee"
  zone    = zone.porto
}

host "fe05" {
  address = "10.30.0.12"
  stack   = "j2ee"
  zone    = zone.porto
}
