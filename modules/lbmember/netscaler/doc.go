// Package netscaler is the lb_member driver for Citrix ADC / NetScaler
// service-group members over the NITRO REST API (/nitro/v1).
//
// Every request carries X-NITRO-USER and X-NITRO-PASS (no session cookie to
// expire). Members are the servicegroup's bound servers, named
// "servername:port" or just "servername" when it is bound once.
//
//   - drained: POST config/servicegroup?action=disable with "delay": NITRO
//     sends new requests only to persistent clients and shows the member
//     GOING OUT OF SERVICE; after the delay (setting drain_delay, default
//     1h) it takes the member out of service by itself.
//   - disabled: the same action without delay: OUT OF SERVICE at once.
//   - enabled: POST config/servicegroup?action=enable.
//
// Sessions are the larger of curclntconnections and cursrvrconnections
// from stat/servicegroupmember (NITRO sends numbers as strings). HTTP 209
// (X-NITRO-WARNING) is success.
//
// Entry points: FromEndpoint, New.
package netscaler
