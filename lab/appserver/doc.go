// Package appserver is the application server of one simulated front-end in
// the lab farm: an HTTP server on loopback that answers every application
// path with 200 and a body naming the front-end and its platform version
// ("fe03 11.31.0"), and answers Service Center's health pings
// (/ServiceCenter/_ping.aspx on .NET, /ServiceCenter/_ping.jsf on J2EE).
//
// The rest of the lab drives it like the real thing behaves during an
// upgrade: Down while the installer runs (the listener is closed, so
// connections are refused, or, in Unavailable mode, every request gets 503
// the way HTTP.sys answers for a stopped IIS application pool; requests in
// flight are cut either way), Up afterwards, SetVersion when the platform
// changes, SetBroken when new-version components land on an old platform
// (application paths answer 500; the ping still passes, as Service Center's
// own page does, so a balancer keeps a broken front-end in rotation and only
// a traffic monitor notices).
//
// Entry point: Start, then Server's methods; Close at the end. A Server is
// safe for concurrent use.
package appserver
