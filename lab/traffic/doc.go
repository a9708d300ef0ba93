// Package traffic is the lab farm's witness: a bounded load generator that
// sends GET requests through the balancer for the whole run and records
// every request that failed, and a monitor that records every moment a
// front-end was in the balancer's rotation while its application server was
// down or broken. Together they decide whether an upgrade was really
// zero-downtime: a clean Report has no failed request and no violation.
//
// The generator is bounded three ways (total requests, duration, context)
// and never counts its own stopping as a failure: requests in flight when it
// stops run to completion under their own timeout.
//
// Entry points: Start (then Stop or Wait) for load; NewMonitor, fed by the
// balancer's and the application servers' change hooks (LBEvent, AppState)
// or by Sample polling a balancer; Report.String for people.
package traffic
