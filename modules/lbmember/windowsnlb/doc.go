// Package windowsnlb is the lb_member driver for Microsoft Network Load
// Balancing. It runs on the control machine and opens its own WinRM
// connection (package transports/winrm) to one node of the cluster, the
// load_balancer's address, where the NetworkLoadBalancingClusters cmdlets
// act on every node of the local cluster. Members are NLB nodes by the
// name Get-NlbClusterNode shows (compared without regard to case).
//
// States, read with Get-NlbClusterNode:
//
//	Converged, Converged(default)  enabled,  healthy
//	Converging                      enabled,  not healthy (not yet in the cluster)
//	Draining                        drained,  healthy (still serves its connections)
//	Stopped, Suspended              disabled, not healthy
//	anything else                   enabled,  not healthy; Detail shows NLB's word
//
// Changes:
//
//   - enabled: Resume-NlbClusterNode when suspended, then Start-NlbClusterNode
//     when stopped or draining. The module then waits for Converged.
//   - drained: Stop-NlbClusterNode -Drain, started in a second runspace so
//     the call returns once NLB reports Draining. NLB ends a drain by itself:
//     when the node's last connection closes it stops the node, so a
//     "drained" member reads "disabled" afterwards (at once when it had no
//     connection). Draining a stopped or suspended node does nothing: it
//     already is where a drain ends, and NLB cannot drain a node that is not
//     started (starting it first would put it back in rotation). Such a
//     member goes on reading "disabled", so lb_member reports a change on
//     every run with state = "drained".
//   - disabled: Stop-NlbClusterNode -Drain -Timeout <drain_timeout in whole
//     minutes>, which blocks until NLB has drained the node; when the timeout
//     passes NLB stops it anyway and drops the remaining connections.
//   - KillSessions (on_drain_timeout = "force"): a plain Stop-NlbClusterNode,
//     which drops the connections.
//
// NLB exposes no per-node session or connection count to these cmdlets, so
// every Status has Sessions 0 and its Detail says so. Drain completion is
// therefore NLB's own judgement: the module's drain wait sees 0 at once and
// goes on to "disabled", whose cmdlet waits for NLB, bounded by this
// driver's drain_timeout setting (and the task's timeout). lb_member's own
// drain_timeout and on_drain_timeout do not apply to NLB.
//
// Every script is an embedded template in scripts/ (first line
// "# osrun:lb_member/windows_nlb_<script>"); values are quoted with
// winrm.Quote and results come back as "osrun-<key>=<value>" lines, the
// convention of modules/hostscript. windowsnlbtest simulates a cluster node
// answering them.
//
// Entry points: FromEndpoint, New.
package windowsnlb
