# osrun:installer/dotnet_prepare
# Creates the directory the installer is uploaded to.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$Staging = {{ps .Staging}}
New-Item -ItemType Directory -Force -Path $Staging | Out-Null
