inventory = 42 + "x" # ERROR: Invalid operand
