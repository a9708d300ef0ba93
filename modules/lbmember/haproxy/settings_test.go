package haproxy_test

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules/lbmember/haproxy"
)

func TestFromEndpoint(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]cty.Value
		pool     string
		err      string
	}{
		{"unix socket", map[string]cty.Value{"socket": cty.StringVal("/run/haproxy/admin.sock"), "backend": cty.StringVal("web")},
			"haproxy backend web at /run/haproxy/admin.sock", ""},
		{"tcp", map[string]cty.Value{"address": cty.StringVal("10.0.0.5:9999"), "backend": cty.StringVal("web"), "timeout": cty.StringVal("5s")},
			"haproxy backend web at 10.0.0.5:9999", ""},
		{"neither", map[string]cty.Value{"backend": cty.StringVal("web")}, "", "setting socket: give socket"},
		{"both", map[string]cty.Value{"socket": cty.StringVal("/s"), "address": cty.StringVal("h:1"), "backend": cty.StringVal("web")}, "", "not both"},
		{"no backend", map[string]cty.Value{"socket": cty.StringVal("/s")}, "", "setting backend: is required"},
		{"bad address", map[string]cty.Value{"address": cty.StringVal("lb1"), "backend": cty.StringVal("web")}, "", "not host:port"},
		{"bad backend", map[string]cty.Value{"socket": cty.StringVal("/s"), "backend": cty.StringVal("web;x")}, "", "not a valid HAProxy"},
		{"typo", map[string]cty.Value{"socket": cty.StringVal("/s"), "backend": cty.StringVal("web"), "backends": cty.StringVal("x")}, "", "setting backends: unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := haproxy.FromEndpoint(&inventory.Endpoint{Name: "lb1", Driver: "haproxy", Settings: tt.settings})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "load balancer lb1 (haproxy): ") {
					t.Errorf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Pool() != tt.pool {
				t.Errorf("Pool() = %q, want %q", d.Pool(), tt.pool)
			}
		})
	}
}
