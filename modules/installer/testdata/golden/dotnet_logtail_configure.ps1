# osrun:installer/dotnet_logtail
# Prints the last lines of the newest Configuration Tool log, for an error
# report. Changes nothing.
$ErrorActionPreference = 'SilentlyContinue'
$ProgressPreference = 'SilentlyContinue'
$pattern = "$env:windir\Temp\ConfigurationTool.log"
$log = Get-ChildItem -Path $pattern | Sort-Object LastWriteTime | Select-Object -Last 1
if ($null -eq $log) { "no log matches $pattern"; exit 0 }
"==> $($log.FullName) <=="
Get-Content -LiteralPath $log.FullName -Tail 40
