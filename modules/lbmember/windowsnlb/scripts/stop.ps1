# osrun:lb_member/windows_nlb_stop
{{- if .Drain}}
# Stops node $Node after draining it: NLB sends it no new connections and
# the cmdlet blocks until the open ones have finished, or until -Timeout
# minutes have passed, when NLB stops the node and drops what is left.
{{- else}}
# Stops node $Node at once: NLB drops the connections it still serves.
{{- end}}
# A stopped or suspended node is left as it is.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$Interface = {{ps .Interface}}
$Node = {{ps .Node}}
Import-Module NetworkLoadBalancingClusters
$at = @{}
if ($Interface -ne '') { $at.InterfaceName = $Interface }
function Find-Node { @(Get-NlbClusterNode @at | Where-Object { $_.Name -eq $Node }) }
$found = Find-Node
if ($found.Count -eq 0) { 'osrun-missing=' + $Node; exit 0 }
$state = "$($found[0].State)"
if ($state -ne 'Stopped' -and $state -ne 'Suspended') {
{{- if .Drain}}
    Stop-NlbClusterNode -InputObject $found[0] -Drain -Timeout {{.Minutes}} | Out-Null
{{- else}}
    Stop-NlbClusterNode -InputObject $found[0] | Out-Null
{{- end}}
    $state = "$((Find-Node)[0].State)"
}
'osrun-state=' + $state
