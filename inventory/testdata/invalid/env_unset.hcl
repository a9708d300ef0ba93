defaults {
  ssh {
    passphrase = env("OSRUN_TEST_SURELY_UNSET_7F3A9C")  # ERROR: Error in function call
  }
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
