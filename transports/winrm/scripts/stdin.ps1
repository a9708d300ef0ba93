# osrun:stdin-script
# The script is too long for a command line (8191 characters): its first
# stdin line holds it, base64 of UTF-8; the caller's stdin follows.
$ErrorActionPreference = 'Stop'
$osrunScript = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String([Console]::In.ReadLine()))
. ([ScriptBlock]::Create($osrunScript))
