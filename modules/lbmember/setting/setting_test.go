package setting_test

import (
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules/lbmember/setting"
)

func TestReader(t *testing.T) {
	r := setting.New("load balancer lb1 (haproxy)", map[string]cty.Value{
		"socket":   cty.StringVal("/run/haproxy.sock"),
		"port":     cty.StringVal("9999"), // HCL strings convert like Terraform's
		"timeout":  cty.StringVal("3s"),
		"insecure": cty.True,
		"password": secret.MarkValue(cty.StringVal("s3cret"), `env("LB_PASS")`),
		"headers":  cty.MapVal(map[string]cty.Value{"X-A": cty.StringVal("1")}),
	})
	if got := r.Required("socket"); got != "/run/haproxy.sock" {
		t.Errorf("socket %q", got)
	}
	if got := r.Int("port", 0); got != 9999 {
		t.Errorf("port %d", got)
	}
	if got := r.Duration("timeout", 0); got != 3*time.Second {
		t.Errorf("timeout %s", got)
	}
	if !r.Bool("insecure", false) {
		t.Error("insecure false")
	}
	if got := r.Secret("password"); got.Reveal() != "s3cret" || got.Source() != `env("LB_PASS")` {
		t.Errorf("password %v", got)
	}
	if got := r.StringMap("headers"); got["X-A"] != "1" {
		t.Errorf("headers %v", got)
	}
	if got := r.String("backend", "web"); got != "web" {
		t.Errorf("default backend %q", got)
	}
	if err := r.Err(); err != nil {
		t.Errorf("Err: %v", err)
	}
}

func TestReaderErrors(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]cty.Value
		read func(r *setting.Reader)
		want string
	}{
		{"missing", nil, func(r *setting.Reader) { r.Required("backend") }, "setting backend: is required"},
		{"literal secret", map[string]cty.Value{"password": cty.StringVal("hunter2")},
			func(r *setting.Reader) { r.Secret("password") }, "must be a secret reference"},
		{"secret where plain expected", map[string]cty.Value{"backend": secret.MarkValue(cty.StringVal("x"), "env(X)")},
			func(r *setting.Reader) { r.String("backend", "") }, "is a secret reference"},
		{"typo", map[string]cty.Value{"backnd": cty.StringVal("web")},
			func(r *setting.Reader) { r.String("backend", "") }, "setting backnd: unknown to this driver"},
		{"bad duration", map[string]cty.Value{"timeout": cty.StringVal("soon")},
			func(r *setting.Reader) { r.Duration("timeout", 0) }, `"soon" is not a duration`},
		{"bad number", map[string]cty.Value{"port": cty.StringVal("http")},
			func(r *setting.Reader) { r.Int("port", 0) }, "setting port: want number"},
		{"url without scheme", map[string]cty.Value{"url": cty.StringVal("lb:8080")},
			func(r *setting.Reader) { r.URL("url", "an https URL") }, `setting url: "lb:8080" is not an https URL`},
		{"url of another scheme", map[string]cty.Value{"url": cty.StringVal("ftp://lb")},
			func(r *setting.Reader) { r.URL("url", "an https URL") }, `"ftp://lb" is not an https URL`},
		{"url missing", nil, func(r *setting.Reader) { r.URL("url", "an https URL") }, "setting url: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := setting.New("load balancer lb1 (haproxy)", tt.set)
			tt.read(r)
			err := r.Err()
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "load balancer lb1 (haproxy): ") {
				t.Errorf("Err() = %v, want %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
}
