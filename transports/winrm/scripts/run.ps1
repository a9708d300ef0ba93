# osrun:run
# Wraps every script osrun runs: stop on the first error, no progress
# records on stderr, UTF-8 output, and the exit code of the last native
# command (0 if none) as the exit code of the whole script.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# UTF-8 without a byte order mark; a shell with no console refuses the
# change, and the WINRS_CODEPAGE=65001 the client asked for then applies.
try { [Console]::OutputEncoding = New-Object Text.UTF8Encoding $false } catch { }
$global:LASTEXITCODE = 0
trap {
    [Console]::Error.WriteLine(($_ | Out-String).TrimEnd())
    exit 1
}
# osrun:begin
{{.Script}}
# osrun:end
exit $LASTEXITCODE
