# For TestSecretsLab (secrets_lab_test.go): a wave that has every
# front-end echo a token read with env() on stdout and stderr, in a command
# line, in a failing command's message and in PowerShell's "not recognized"
# error. The test inserts it before the first wave of playbooks/upgrade.hcl,
# gives the controller's installer an admin password read with env(), and
# lets the Deployment Service's threads stay asleep for 500ms only.

# The secrets' wave: every front-end, the updating set first.
wave "secrets_echo" {
  description = "Every front-end echoes a secret back"
  hosts       = [group.updating, group.loaded]

  # Succeeds: the secret is in the command line (the task's message) and in
  # its stdout (the task's output, journalled for a resume).
  task "command" "token_shown" {
    command = host.stack == "dotnet" ? "[Console]::Out.Write('shown token=${env("OSRUN_LAB_TOKEN")}')" : "echo 'shown token=${env("OSRUN_LAB_TOKEN")}'"
  }

  # Fails: the secret is on stdout, on stderr and so in the error.
  task "command" "token_failed" {
    command       = host.stack == "dotnet" ? "[Console]::Out.Write('out token=${env("OSRUN_LAB_TOKEN")}'); [Console]::Error.Write('bad token=${env("OSRUN_LAB_TOKEN")}'); exit 3" : "echo 'out token=${env("OSRUN_LAB_TOKEN")}'; echo 'bad token=${env("OSRUN_LAB_TOKEN")}' >&2; exit 3"
    ignore_errors = true
  }

  # Fails as a mistyped command does: the shell names it in its error.
  task "command" "token_run" {
    command       = env("OSRUN_LAB_WORD")
    ignore_errors = true
  }
}
