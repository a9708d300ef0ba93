# For TestSecretsLab -secrets-derived (secrets_lab_test.go): values derived
# from secrets (a field of a JSON document read with env(), an env() value
# trimmed) carry the secret mark like the values they come from, and osrun
# must mask them too when a host echoes them back.

wave "derived_echo" {
  description = "Every front-end echoes values derived from secrets"
  hosts       = [group.updating, group.loaded]

  task "command" "derived" {
    command = host.stack == "dotnet" ? "[Console]::Out.Write('field=${jsondecode(env("OSRUN_LAB_CREDS")).token} trimmed=${trimspace(env("OSRUN_LAB_PADDED"))}')" : "echo 'field=${jsondecode(env("OSRUN_LAB_CREDS")).token} trimmed=${trimspace(env("OSRUN_LAB_PADDED"))}'"
  }
}
