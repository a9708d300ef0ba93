# osrun:lb_member/windows_nlb_status
# Lists the nodes of the NLB cluster bound on this host (on interface
# $Interface when it is set) with their states, and names the cluster.
# Changes nothing. NLB counts no sessions per node, so none are reported.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$Interface = 'Ethernet 2'
Import-Module NetworkLoadBalancingClusters
$at = @{}
if ($Interface -ne '') { $at.InterfaceName = $Interface }
$clusters = @(Get-NlbCluster @at)
if ($clusters.Count -ne 1) { throw "this host has $($clusters.Count) NLB clusters: set interface to the one to use" }
'osrun-cluster-name=' + $clusters[0].Name
'osrun-cluster-ip=' + $clusters[0].IPAddress
$nodes = @(Get-NlbClusterNode @at)
'osrun-nodes=' + $nodes.Count
for ($i = 0; $i -lt $nodes.Count; $i++) {
    'osrun-node' + $i + '-name=' + $nodes[$i].Name
    'osrun-node' + $i + '-state=' + $nodes[$i].State
}
