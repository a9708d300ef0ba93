// Package farm assembles the lab farm: a whole simulated OutSystems farm on
// one machine, built from real protocols, that osrun upgrades exactly as it
// would a production one (`osrun apply --lab playbooks/upgrade.hcl`).
//
// Start brings up, for every front-end, an application server
// (lab/appserver) on the front-end's own loopback address and port 80, and
// its host: a simulated Windows server (lab/windows, WinRM over HTTPS signed
// by the farm's CA) for .NET front-ends, a simulated Linux server
// (lab/linux, SSH with a generated host key recorded in the farm's
// known_hosts) for J2EE ones. In front of them run the load balancer
// (lab/lb, with the HAProxy runtime API the haproxy driver speaks, or with
// Config.Balancer "haproxy" the real HAProxy binary configured alike) and
// the Service Center simulator (lab/servicecenter) on loopback HTTP. Start
// wires what each part does to the others:
//
//   - an installer running on a host takes its application server down,
//     and brings it back at the installed version when it finishes;
//   - the installed version is reported to Service Center
//     (FrontendUpgraded), and the controller's Configuration Tool
//     republishes the environment (PlatformUpgraded);
//   - the Deployment Service's state on a host is Service Center's
//     (SetDeployerRunning);
//   - Service Center breaking a front-end (new components on an old
//     platform) makes its application server answer 500 until repaired.
//
// It then writes the inventory (with its secrets in files read through
// file(), the client key, known_hosts and the CA) and the installers into
// the farm's directory, and starts the bounded load generator and the
// monitor (lab/traffic): from then on every request through the balancer
// counts, and every moment a front-end is in rotation while down or broken
// is a violation.
//
// Verdict stops the load and reports requests sent and failed, each
// front-end's version before and after, and the balancer's and Service
// Center's states at the end; Verdict.OK is the zero-downtime judgement.
//
// Each front-end gets its own loopback address (127.x.y.n, a random /24 so
// that two farms on one machine do not meet) because the playbook's
// http_check addresses a front-end by its inventory address alone, at the
// default HTTP port. Binding port 80 needs root (or
// net.ipv4.ip_unprivileged_port_start <= 80) and the 127.0.0.0/8 range
// routed to lo, as Linux does; Start says so when either is missing.
//
// Entry points: Start, then Farm.Inventory and Farm.Vars for the run,
// Farm.Frontend for injecting failures, Farm.Verdict, Farm.Close.
package farm
