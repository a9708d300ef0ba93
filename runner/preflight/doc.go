// Package preflight proves, before the first change, that a farm is ready
// for an upgrade: `osrun apply` runs it first and `osrun preflight` runs it
// alone. It changes nothing anywhere.
//
// Run checks, concurrently (at most Options.Forks at once) and without
// stopping at the first problem:
//
//  1. every selected host is reachable and authenticated: a dial through
//     the host's transport and a trivial command, then the connection is
//     closed;
//  2. each host's installed Platform Server version, read with the
//     installer module's own reader (installer.ReadInstalled), using the
//     install_dir and staging_dir of the host's installer task if it sets
//     them;
//  3. the installer files the playbook's installer tasks name for the
//     selected hosts (source, script, packages) exist on the control
//     machine as regular files and, where the task gives sha256, have that
//     digest; remote_path is read by the host and is only noted;
//  4. the load balancer of every zone answers, and every front-end is a
//     member of its pool (by Host.Member) and healthy;
//  5. Service Center (driver http) answers and knows every front-end (by
//     host name, as sc_frontend calls it) and its deployment state; the
//     manual driver cannot be read and is noted as not checked;
//  6. the balanced split holds (the inventory loader guarantees it; this
//     re-asserts it cheaply), and in every zone the loaded set carries at
//     least MinCapacity of the zone's in-rotation capacity: of the zone's
//     front-ends now in rotation (enabled and healthy), the share that is
//     loaded.
//
// With Options.Limit only the named hosts are dialled and checked, and
// only their zones' balancers and Service Centers are read; a zone's
// capacity is still computed over all of its front-ends, since the
// balancer serves them all.
//
// With Options.Resuming (a run continuing an interrupted one) front-ends
// out of rotation are expected, so they are noted, and only a zone with
// no front-end in rotation fails the capacity check.
//
// The Report lists each host (reachable, version, balancer state,
// deployment), each zone's capacity, each installer file, the Problems
// (any one fails the preflight: Report.OK) and Notes (what could not be
// checked, or looks unusual without being wrong). It marshals to JSON and
// renders as text with WriteTo. A caller that gets a report that is not OK
// must change nothing and exit non-zero.
//
// Entry point: Run.
package preflight
