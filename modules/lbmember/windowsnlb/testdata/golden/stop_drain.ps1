# osrun:lb_member/windows_nlb_stop
# Stops node $Node after draining it: NLB sends it no new connections and
# the cmdlet blocks until the open ones have finished, or until -Timeout
# minutes have passed, when NLB stops the node and drops what is left.
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
    Stop-NlbClusterNode -InputObject $found[0] -Drain -Timeout 10 | Out-Null
    $state = "$((Find-Node)[0].State)"
}
'osrun-state=' + $state
