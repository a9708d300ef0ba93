package inventory

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/osrun/osrun/inventory/secret"
)

// Values holds free-form HCL values: a host's vars or a driver's settings.
// It is a plain map for callers, but printing it with fmt or encoding/json
// replaces every value that came from env() or file() with a redacted
// placeholder, because cty.Value's own GoString and its struct fields
// would otherwise show the secret to anyone logging a Host or Endpoint.
// One hole remains: when fmt meets a wrong verb higher up (%s on an
// *Inventory), it prints nested values by reflection without calling any
// method; use %v, %+v, %#v, slog or encoding/json.
type Values map[string]cty.Value

// Format covers every fmt verb; %#v prints cty Go syntax for plain values.
func (vs Values) Format(f fmt.State, verb rune) {
	io.WriteString(f, "map[")
	for i, k := range slices.Sorted(maps.Keys(vs)) {
		if i > 0 {
			io.WriteString(f, " ")
		}
		fmt.Fprintf(f, "%s:%s", k, printable(vs[k]))
	}
	io.WriteString(f, "]")
}

// GoString covers %#v for callers that invoke it directly.
func (vs Values) GoString() string { return fmt.Sprintf("inventory.Values%v", vs) }

// MarshalJSON encodes plain values as JSON and secrets as a placeholder.
func (vs Values) MarshalJSON() ([]byte, error) {
	out := make(map[string]json.RawMessage, len(vs))
	for k, v := range vs {
		if secret.IsMarked(v) {
			b, _ := json.Marshal(redacted(v))
			out[k] = b
			continue
		}
		v, _ = v.UnmarkDeep()
		if !v.IsWhollyKnown() {
			out[k] = json.RawMessage(`null`)
			continue
		}
		b, err := ctyjson.Marshal(v, v.Type())
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", k, err)
		}
		out[k] = b
	}
	return json.Marshal(out)
}

func printable(v cty.Value) string {
	if secret.IsMarked(v) {
		return redacted(v)
	}
	return v.GoString()
}

// redacted names where a secret came from without showing it.
func redacted(v cty.Value) string {
	if s, ok := secret.FromCty(v); ok {
		return s.String()
	}
	return secret.Redacted
}
