batch          = 1
target_versoin = "11.32.0"
