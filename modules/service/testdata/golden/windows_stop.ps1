# osrun:service/windows_set
# Asks one Windows service to stop and returns at once: osrun
# polls service/windows_status until the state is reached, with a timeout,
# instead of blocking here where it could not report progress.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$Name = 'OutSystems Deployment Service'
# Without -Force this refuses to stop a service others depend on.
Stop-Service -Name $Name -NoWait
