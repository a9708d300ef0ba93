host "fe01" {
  address = "10.0.0.11"
  stack   = "j2ee" +   # ERROR: Invalid expression
}
