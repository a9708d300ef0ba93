# osrun:installer/dotnet_state
# Reads the installed Platform Server version and install directory from the
# registry, and the version whose configuration osrun left unfinished, if
# any. Changes nothing.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$Marker = {{ps .Marker}}
$key = Get-Item -LiteralPath 'HKLM:\SOFTWARE\OutSystems\Installer\Server' -ErrorAction SilentlyContinue
if ($null -ne $key) {
  'osrun-version=' + $key.GetValue('Server')
  'osrun-install-dir=' + $key.GetValue('')
}
if (Test-Path -LiteralPath $Marker) {
  'osrun-pending=' + (Get-Content -LiteralPath $Marker -TotalCount 1)
}
