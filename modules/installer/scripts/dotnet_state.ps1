# osrun:installer/dotnet_state
# Reads the installed Platform Server version and install directory from the
# registry, the version whose configuration osrun left unfinished, if any,
# and the process id of an installer osrun started that is still running.
# Changes nothing.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$Marker = {{ps .Marker}}
$Running = {{ps .Running}}
$key = Get-Item -LiteralPath 'HKLM:\SOFTWARE\OutSystems\Installer\Server' -ErrorAction SilentlyContinue
if ($null -ne $key) {
  'osrun-version=' + $key.GetValue('Server')
  'osrun-install-dir=' + $key.GetValue('')
}
if (Test-Path -LiteralPath $Marker) {
  'osrun-pending=' + (Get-Content -LiteralPath $Marker -TotalCount 1)
}
if (Test-Path -LiteralPath $Running) {
  $id = Get-Content -LiteralPath $Running -TotalCount 1
  if ($id -match '^\d+$' -and (Get-Process -Id $id -ErrorAction SilentlyContinue)) {
    'osrun-running=' + $id
  }
}
