# osrun:lb_member/windows_nlb_start
# Puts node $Node back into the cluster: resumes it when it is suspended,
# then starts it when it is stopped or draining. The node converges on its
# own afterwards; osrun waits for Converged by reading the state.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$Interface = 'NLB ‘‘a’’'
$Node = 'fe''01$(evil)'
Import-Module NetworkLoadBalancingClusters
$at = @{}
if ($Interface -ne '') { $at.InterfaceName = $Interface }
function Find-Node { @(Get-NlbClusterNode @at | Where-Object { $_.Name -eq $Node }) }
$found = Find-Node
if ($found.Count -eq 0) { 'osrun-missing=' + $Node; exit 0 }
$state = "$($found[0].State)"
if ($state -eq 'Suspended') {
    Resume-NlbClusterNode -InputObject $found[0] | Out-Null
    $found = Find-Node
    $state = "$($found[0].State)"
}
if ($state -eq 'Stopped' -or $state -eq 'Draining') {
    Start-NlbClusterNode -InputObject $found[0] | Out-Null
    $state = "$((Find-Node)[0].State)"
}
'osrun-state=' + $state
