# osrun:installer/dotnet_configure
# Runs the Configuration Tool from the install directory to upgrade this
# server's installation.
# On success it forgets the pending marker and deletes the installer.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$InstallDir = 'C:\Program Files\OutSystems\Platform Server'
$Marker = 'C:\ProgramData\osrun\installer\pending-configuration.txt'
$Installer = 'C:\ProgramData\osrun\installer\PlatformServer-11.31.0.exe'
$arguments = @('/UpgradeInstall')
Set-Location -LiteralPath $InstallDir
& .\ConfigurationTool.com @arguments
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
Remove-Item -LiteralPath $Marker, $Installer -Force -ErrorAction SilentlyContinue
'osrun-configured=ok'
