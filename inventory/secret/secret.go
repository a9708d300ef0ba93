// Package secret holds credentials that osrun must use but never show.
//
// A Value comes only from a reference in HCL (env("NAME") or file("path"));
// every way Go has of printing it (String, GoString, %v, %#v, slog,
// encoding/json) yields a redacted placeholder naming the reference, so a
// secret that reaches a log line, an event or a report is harmless.
package secret

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// Redacted is what a Value prints instead of its content.
const Redacted = "[redacted]"

// Value is a secret string together with where it came from.
//
// The content sits behind a pointer: when fmt meets a wrong verb for an
// enclosing value (say %s on a struct holding pointers) it prints fields
// by reflection without calling Format, and a pointer below the top level
// then shows as an address, not as the secret.
type Value struct {
	b *box
}

type box struct {
	value  string
	source string // e.g. env("OSRUN_WINRM_PASSWORD"); safe to show
}

// New wraps a secret read from source (a description safe to print).
func New(value, source string) Value {
	remember(value)
	if value == "" && source == "" {
		return Value{}
	}
	return Value{b: &box{value: value, source: source}}
}

// Reveal returns the secret itself. Call it only at the point of use (an
// authentication handshake, a stdin pipe), never to build a message.
func (v Value) Reveal() string {
	if v.b == nil {
		return ""
	}
	return v.b.value
}

// IsZero reports whether no secret was configured.
func (v Value) IsZero() bool { return v.b == nil }

// Source names the reference the secret came from.
func (v Value) Source() string {
	if v.b == nil {
		return ""
	}
	return v.b.source
}

func (v Value) String() string {
	if v.Source() == "" {
		return Redacted
	}
	return Redacted + " from " + v.Source()
}

// GoString covers %#v.
func (v Value) GoString() string { return "secret.Value(" + v.String() + ")" }

// Format covers every verb, including %v, %+v, %s, %q and %x.
func (v Value) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v':
		if f.Flag('#') {
			fmt.Fprint(f, v.GoString())
			return
		}
		fmt.Fprint(f, v.String())
	case 'q':
		fmt.Fprintf(f, "%q", v.String())
	default:
		fmt.Fprint(f, v.String())
	}
}

// LogValue keeps secrets out of log/slog output.
func (v Value) LogValue() slog.Value { return slog.StringValue(v.String()) }

// MarshalJSON keeps secrets out of JSON events and reports.
func (v Value) MarshalJSON() ([]byte, error) { return json.Marshal(v.String()) }

// MarshalText keeps secrets out of encoders that use encoding.TextMarshaler.
func (v Value) MarshalText() ([]byte, error) { return []byte(v.String()), nil }
