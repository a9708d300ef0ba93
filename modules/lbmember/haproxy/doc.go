// Package haproxy is the lb_member driver for HAProxy's runtime API (the
// stats socket, over a unix socket or TCP, at "level admin").
//
// Each command is one connection in HAProxy's non-interactive mode: send
// one line, read until HAProxy closes. State changes use
// "set server B/S state ready|drain|maint"; the state is read from
// "show servers state B" (admin bit mask and operational state) and the
// session count from "show stat B 4 -1", whose CSV is parsed by column name
// because its columns differ between HAProxy versions.
//
// Entry points: FromEndpoint (decodes a load_balancer block), New.
package haproxy
