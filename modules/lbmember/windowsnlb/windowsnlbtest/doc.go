// Package windowsnlbtest simulates a Microsoft NLB cluster as seen from one
// of its nodes, for testing the windowsnlb driver through the real WinRM
// transport: Cluster.Register puts it on a winrmtest.Host, where it answers
// the driver's scripts (identified by their "# osrun:lb_member/windows_nlb_*"
// first line) the way the NetworkLoadBalancingClusters cmdlets behave.
//
// The model: a node is Converged, Converging, Draining, Stopped or
// Suspended. Clients hold connections to nodes (Open); NLB keeps no count
// the cmdlets show. A drainstop leaves a node Draining while it holds
// connections and stops it when the last one closes (at once when it has
// none). Stop-NlbClusterNode -Drain -Timeout N blocks until then, or for N
// simulated minutes (SetMinute) after which it stops the node and drops
// the connections. A started node is Converging for one status read, then
// Converged; a node whose heartbeats are lost (SetHeartbeat) stays
// Converging, which is how this simulation models a node the cluster
// cannot converge with.
//
// Entry point: New, then Register.
package windowsnlbtest
