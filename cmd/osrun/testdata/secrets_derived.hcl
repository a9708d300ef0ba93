# For TestSecretsLab -secrets-known-leaks (secrets_lab_test.go): the ways
# secrets still surface unmasked.
#
# Values derived from secrets (a field of a JSON document read with env(),
# an env() value trimmed) carry the secret mark like the values they come
# from, but the scrubber knows only what env() and file() returned.
#
# A command's output is kept to its last 64 KiB: when the cut falls inside
# a secret, the rest of it is no longer the secret the scrubber looks for.

variable "pad" {
  description = "How many bytes the chatty command prints after the token, to cut all of it but its first character off"
  type        = number
}

wave "known_leaks" {
  description = "Every front-end echoes values derived from secrets; the J2EE ones, a token at the edge of the output kept"
  hosts       = [group.updating, group.loaded]

  task "command" "derived" {
    command = host.stack == "dotnet" ? "[Console]::Out.Write('field=${jsondecode(env("OSRUN_LAB_CREDS")).token} trimmed=${trimspace(env("OSRUN_LAB_PADDED"))}')" : "echo 'field=${jsondecode(env("OSRUN_LAB_CREDS")).token} trimmed=${trimspace(env("OSRUN_LAB_PADDED"))}'"
  }

  task "command" "chatty" {
    when    = host.stack == "j2ee"
    command = "echo '${env("OSRUN_LAB_TOKEN")}'; head -c ${var.pad} /dev/zero | tr '\\0' x"
  }
}
