variable "target_version" {
  default = "11.31.0"
}

variable "target_version" { # ERROR: Duplicate variable
  default = "11.32.0"
}
