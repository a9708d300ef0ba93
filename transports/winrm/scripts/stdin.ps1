# osrun:stdin-script
# The script is too long for a command line (8191 characters): its first
# stdin line holds it, base64 of UTF-8. The caller's stdin follows and is
# piped on, so the script reads it as $input like any other.
$ErrorActionPreference = 'Stop'
$osrunScript = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String([Console]::In.ReadLine()))
$input | . ([ScriptBlock]::Create($osrunScript))
