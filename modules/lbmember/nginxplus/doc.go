// Package nginxplus is the lb_member driver for the NGINX Plus API
// (ngx_http_api_module, version 9) on an HTTP upstream.
//
// Members are matched against the upstream servers' "server" field as
// written in nginx.conf (e.g. "10.0.0.13:80"), so hosts set
// member = "10.0.0.13:80". The administrative state comes from the
// server configuration (GET …/servers: down, drain), health and the
// session count from the peers (GET …/upstreams/U: state, active).
// Changes are PATCH …/servers/ID with {"drain":true} or {"down":true};
// enabling sends {"down":false} and, only for a draining server,
// {"drain":false} (which field clears draining is not confirmed against a
// real NGINX Plus; see wire-protocols.md 1.3).
//
// Entry points: FromEndpoint, New.
package nginxplus
