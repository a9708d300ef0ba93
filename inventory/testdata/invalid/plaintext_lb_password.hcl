load_balancer "main" {
  driver       = "f5"
  url          = "https://f5.example"
  api_password = "hunter2"  # ERROR: Secret in plain text
}
host "fe01" {
  address = "10.0.0.11"
  stack   = "j2ee"
  roles   = ["controller", "frontend"]
}
host "fe02" {
  address = "10.0.0.12"
  stack   = "j2ee"
}
