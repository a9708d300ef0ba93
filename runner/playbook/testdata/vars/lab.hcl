target_version = "11.32.0"
batch          = 2
