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
// Both commands answer for the whole backend, so Status and Members share
// reads: callers that arrive while a read is in flight wait for it, and a
// reading answers callers for Config.MaxAge (20ms by default) after it
// began. lb_member polls every draining host on its own, and without this
// a farm of n hosts cost n reads of n rows per poll. SetState and
// KillSessions discard the reading: the next Status reads again.
//
// Entry points: FromEndpoint (decodes a load_balancer block), New.
package haproxy
