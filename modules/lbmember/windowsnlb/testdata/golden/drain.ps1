# osrun:lb_member/windows_nlb_drain
# Starts a drainstop of node $Node: NLB sends it no new connections, lets
# the open ones finish and then stops the node by itself. The cmdlet would
# block until then, so it runs in a second runspace and this script returns
# as soon as NLB reports the node Draining (or already Stopped, when it had
# no connections). Abandoning the cmdlet's wait does not cancel the drain:
# NLB runs it.
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
if ($state -like 'Converg*') {
    $ps = [PowerShell]::Create()
    [void]$ps.AddCommand('Import-Module').AddArgument('NetworkLoadBalancingClusters').AddStatement()
    [void]$ps.AddCommand('Stop-NlbClusterNode').AddParameter('InputObject', $found[0]).AddParameter('Drain')
    $async = $ps.BeginInvoke()
    $ended = $false
    $deadline = (Get-Date).AddSeconds(30)
    do {
        Start-Sleep -Milliseconds 500
        if ($ps.Streams.Error.Count -gt 0) { throw $ps.Streams.Error[0] }
        if ($async.IsCompleted -and -not $ended) { $ended = $true; $ps.EndInvoke($async) | Out-Null }
        $state = "$((Find-Node)[0].State)"
    } until ($state -eq 'Draining' -or $state -eq 'Stopped' -or (Get-Date) -gt $deadline)
}
'osrun-state=' + $state
