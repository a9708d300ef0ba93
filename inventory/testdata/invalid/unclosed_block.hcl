host "fe01" {  # ERROR: Unclosed configuration block
  address = "10.0.0.11"
  stack   = "j2ee"
