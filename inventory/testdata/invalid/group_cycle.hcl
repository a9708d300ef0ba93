host "fe01" {
  address = "10.0.0.11"
  stack   = "j2ee"
  roles   = ["controller", "frontend"]
}
host "fe02" {
  address = "10.0.0.12"
  stack   = "j2ee"
}
group "a" {
  hosts = [host.fe01, group.b]
}
group "b" {
  hosts = [group.c]
}
group "c" {
  hosts = [host.fe02, group.a]  # ERROR: Reference cycle in groups
}
