# osrun:installer/dotnet_logtail
# Prints the last lines of the newest {{if eq .Step "install"}}installer log{{else}}Configuration Tool log{{end}}, for an error
# report. Changes nothing.
$ErrorActionPreference = 'SilentlyContinue'
$ProgressPreference = 'SilentlyContinue'
{{- if eq .Step "install"}}
$pattern = "$env:LOCALAPPDATA\OutSystems\PlatformInstaller\*.log"
{{- else}}
$pattern = "$env:windir\Temp\ConfigurationTool.log"
{{- end}}
$log = Get-ChildItem -Path $pattern | Sort-Object LastWriteTime | Select-Object -Last 1
if ($null -eq $log) { "no log matches $pattern"; exit 0 }
"==> $($log.FullName) <=="
Get-Content -LiteralPath $log.FullName -Tail {{.Lines}}
