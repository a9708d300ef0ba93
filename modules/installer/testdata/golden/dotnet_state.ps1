# osrun:installer/dotnet_state
# Reads the process id of an installer osrun started that is still running,
# the installed Platform Server version and install directory from the
# registry, and the version whose configuration osrun left unfinished, if
# any. Changes nothing.
#
# The order matters: the installer updates the registry before the install
# script removes the process id file, so whatever is read after seeing no
# installer running is what that installer left. Reading the version first
# could pair the old version with "no installer running" (it ended in
# between), and osrun would start a second one.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$Marker = 'C:\ProgramData\osrun\installer\pending-configuration.txt'
$Running = 'C:\ProgramData\osrun\installer\installer-running.txt'
if (Test-Path -LiteralPath $Running) {
  $id = Get-Content -LiteralPath $Running -TotalCount 1
  if ($id -match '^\d+$' -and (Get-Process -Id $id -ErrorAction SilentlyContinue)) {
    'osrun-running=' + $id
  }
}
$key = Get-Item -LiteralPath 'HKLM:\SOFTWARE\OutSystems\Installer\Server' -ErrorAction SilentlyContinue
if ($null -ne $key) {
  'osrun-version=' + $key.GetValue('Server')
  'osrun-install-dir=' + $key.GetValue('')
}
if (Test-Path -LiteralPath $Marker) {
  'osrun-pending=' + (Get-Content -LiteralPath $Marker -TotalCount 1)
}
