package runner

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory/secret"
)

func TestOutputRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]cty.Value
		want map[string]cty.Value // nil: nothing journalled
	}{
		{"empty", nil, nil},
		{
			"types survive",
			map[string]cty.Value{
				"version": cty.StringVal("11.31.0"),
				"n":       cty.NumberIntVal(3),
				"hosts":   cty.ListVal([]cty.Value{cty.StringVal("fe01")}),
				"tags":    cty.MapVal(map[string]cty.Value{"a": cty.StringVal("b")}),
				"ok":      cty.True,
			},
			map[string]cty.Value{
				"version": cty.StringVal("11.31.0"),
				"n":       cty.NumberIntVal(3),
				"hosts":   cty.ListVal([]cty.Value{cty.StringVal("fe01")}),
				"tags":    cty.MapVal(map[string]cty.Value{"a": cty.StringVal("b")}),
				"ok":      cty.True,
			},
		},
		{
			"secrets and unknowns are left out",
			map[string]cty.Value{
				"token":   secret.MarkValue(cty.StringVal("hunter2"), `env("T")`),
				"nested":  cty.ObjectVal(map[string]cty.Value{"pw": secret.MarkValue(cty.StringVal("hunter2"), `env("T")`)}),
				"later":   cty.UnknownVal(cty.String),
				"broken":  cty.NilVal,
				"visible": cty.StringVal("yes"),
			},
			map[string]cty.Value{"visible": cty.StringVal("yes")},
		},
		{
			"only a secret",
			map[string]cty.Value{"token": secret.MarkValue(cty.StringVal("hunter2"), `env("T")`)},
			nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := encodeOutput(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(raw), "hunter2") {
				t.Fatalf("a secret reached the journal: %s", raw)
			}
			got, err := decodeOutput(raw)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("decoded %v, want %v", got, tt.want)
			}
			for k, w := range tt.want {
				if g, ok := got[k]; !ok || !g.Type().Equals(w.Type()) || !g.RawEquals(w) {
					t.Errorf("%s: %#v, want %#v", k, g, w)
				}
			}
		})
	}
}

func TestDecodeOutputRejectsDamage(t *testing.T) {
	for _, raw := range []string{`{"value":"x","type":"string"}`, `{"value":`, `[1]`} {
		if _, err := decodeOutput([]byte(raw)); err == nil {
			t.Errorf("%s: no error", raw)
		}
	}
}
