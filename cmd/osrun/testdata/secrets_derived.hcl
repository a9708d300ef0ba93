# For TestSecretsLab (secrets_lab_test.go): secrets that surface derived or
# in part.
#
# Values derived from secrets (a field of a JSON document read with env(),
# an env() value trimmed) carry the secret mark like the values they come
# from; the functions that derive them tell the scrubber (inventory's
# rememberingSecrets), or it would know only what env() and file() returned.
#
# A command's output is kept to its last 64 KiB: when the cut falls inside
# a secret, what is left of it is masked (secret.MaskCutStart), or it would
# no longer be the secret the scrubber looks for.

variable "pad" {
  description = "How many bytes the chatty command prints after the token, to cut all of it but its first character off"
  type        = number
}

wave "derived_and_cut" {
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
