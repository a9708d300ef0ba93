# osrun:service/windows_set
# Sets the startup type of one Windows service.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$Name = 'OutSystems Deployment Service'
Set-Service -Name $Name -StartupType 'Automatic'
