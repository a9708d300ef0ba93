variable "batch" {
  type    = number
  default = "two" # ERROR: Invalid default value for variable
}
