# osrun:lb_member/windows_nlb_stop
# Stops node $Node at once: NLB drops the connections it still serves.
# A stopped or suspended node is left as it is.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$Interface = ''
$Node = 'fe01'
Import-Module NetworkLoadBalancingClusters
$at = @{}
if ($Interface -ne '') { $at.InterfaceName = $Interface }
function Find-Node { @(Get-NlbClusterNode @at | Where-Object { $_.Name -eq $Node }) }
$found = Find-Node
if ($found.Count -eq 0) { 'osrun-missing=' + $Node; exit 0 }
$state = "$($found[0].State)"
if ($state -ne 'Stopped' -and $state -ne 'Suspended') {
    Stop-NlbClusterNode -InputObject $found[0] | Out-Null
    $state = "$((Find-Node)[0].State)"
}
'osrun-state=' + $state
