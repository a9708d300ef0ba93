# osrun:service/windows_status
# Reads one Windows service's status and startup type. Changes nothing.
# A missing service is reported, not thrown, so osrun can name it.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$Name = 'OutSystems Deployment Service'
$svc = @(Get-Service -Name $Name -ErrorAction SilentlyContinue)
if ($svc.Count -eq 0) { 'osrun-status=Missing'; exit 0 }
if ($svc.Count -gt 1) { throw "'$Name' matches $($svc.Count) services" }
'osrun-name=' + $svc[0].Name
'osrun-status=' + $svc[0].Status
'osrun-startup=' + $svc[0].StartType
