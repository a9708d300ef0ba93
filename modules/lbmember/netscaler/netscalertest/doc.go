// Package netscalertest is a fake Citrix ADC NITRO API (/nitro/v1) for
// tests: one service group whose members answer the requests the
// netscaler driver makes, with NITRO's envelope ({"errorcode":0,
// "message":"Done","severity":"NONE"}), numbers as strings in statistics,
// X-NITRO-USER/X-NITRO-PASS checks, and errors with errorcode and
// severity "ERROR".
package netscalertest
