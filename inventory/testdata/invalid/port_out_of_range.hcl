host "fe01" {
  address = "10.0.0.11"
  stack   = "dotnet"
  roles   = ["controller", "frontend"]
  winrm {
    port = 70000  # ERROR: Invalid port
  }
}
host "fe02" {
  address = "10.0.0.12"
  stack   = "dotnet"
}
