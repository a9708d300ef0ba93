package nginxplus_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules/lbmember/lbtest"
	"github.com/osrun/osrun/modules/lbmember/member"
	"github.com/osrun/osrun/modules/lbmember/nginxplus"
	"github.com/osrun/osrun/modules/lbmember/nginxplus/nginxplustest"
)

var members = []string{"10.0.0.11:80", "10.0.0.12:80", "10.0.0.13:80"}

func open(t *testing.T, settings map[string]cty.Value) *nginxplus.Driver {
	t.Helper()
	d, err := nginxplus.FromEndpoint(&inventory.Endpoint{Name: "lb1", Driver: "nginx_plus", Settings: settings})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func settings(fake *nginxplustest.Server) map[string]cty.Value {
	return map[string]cty.Value{
		"url":      cty.StringVal(fake.URL),
		"upstream": cty.StringVal("outsystems"),
		"user":     cty.StringVal("osrun"),
		"password": secret.MarkValue(cty.StringVal("pw"), `env("NGINX_PASSWORD")`),
	}
}

func TestFakeNGINXPlusConforms(t *testing.T) {
	lbtest.Run(t, func(t *testing.T) *lbtest.Harness {
		fake := nginxplustest.New(t, "outsystems", members...)
		fake.RequireAuth("osrun", "pw")
		return &lbtest.Harness{
			Driver:     open(t, settings(fake)),
			Members:    members,
			Hold:       lbtest.CountedHold(fake.AddActive),
			SetHealthy: func(t *testing.T, name string, ok bool) { fake.SetHealthy(name, ok) },
		}
	})
}

// The exact PATCH bodies: never an "id", and "drain":false only for a
// server that is draining.
func TestPatchBodies(t *testing.T) {
	fake := nginxplustest.New(t, "outsystems", members...)
	d := open(t, settings(fake))
	for _, st := range []member.State{member.Drained, member.Disabled, member.Enabled, member.Disabled, member.Enabled, member.Enabled} {
		if err := d.SetState(t.Context(), "10.0.0.12:80", st); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		`1 {"down":false,"drain":true}`,
		`1 {"down":true}`,
		`1 {"down":false}`,
		`1 {"drain":false}`,
		`1 {"down":true}`,
		`1 {"down":false}`,
	}
	if got := fake.Patches(); !slices.Equal(got, want) {
		t.Errorf("PATCH bodies\n got %q\nwant %q", got, want)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *nginxplustest.Server, s map[string]cty.Value)
		do    func(d *nginxplus.Driver) error
		want  string
		is    error
	}{
		{"wrong password", func(f *nginxplustest.Server, s map[string]cty.Value) {
			f.RequireAuth("osrun", "other")
		}, func(d *nginxplus.Driver) error { return d.SetState(t.Context(), members[0], member.Drained) },
			"PATCH /api/9/http/upstreams/outsystems/servers/0: 401 Unauthorized: check user and password", nil},
		{"write disabled", func(f *nginxplustest.Server, s map[string]cty.Value) { f.ReadOnly() },
			func(d *nginxplus.Driver) error { return d.SetState(t.Context(), members[0], member.Disabled) },
			`405 MethodDisabled: method disabled (the api location needs "api write=on;")`, nil},
		{"unknown upstream", func(f *nginxplustest.Server, s map[string]cty.Value) { s["upstream"] = cty.StringVal("web") },
			func(d *nginxplus.Driver) error { _, err := d.Members(t.Context()); return err },
			"GET /api/9/http/upstreams/web/servers: no such upstream: 404 UpstreamNotFound: upstream not found", nginxplus.ErrUpstreamNotFound},
		{"wrong api path", func(f *nginxplustest.Server, s map[string]cty.Value) { s["url"] = cty.StringVal(f.URL + "/v2") },
			func(d *nginxplus.Driver) error { _, err := d.Status(t.Context(), members[0]); return err },
			"404 PathNotFound: path not found", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := nginxplustest.New(t, "outsystems", members...)
			fake.RequireAuth("osrun", "pw")
			s := settings(fake)
			tt.setup(fake, s)
			err := tt.do(open(t, s))
			lbtest.WantError(t, err, tt.want, tt.is)
			if err != nil && strings.Contains(err.Error(), "pw") && !strings.Contains(err.Error(), "password") {
				t.Errorf("error may show the password: %v", err)
			}
		})
	}
}

func TestFromEndpointErrors(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]cty.Value
		want     string
	}{
		{"missing", map[string]cty.Value{}, "setting url: is required"},
		{"bad url", map[string]cty.Value{"url": cty.StringVal("nginx:8080"), "upstream": cty.StringVal("u")}, "is not an http(s) URL"},
		{"literal password", map[string]cty.Value{"url": cty.StringVal("https://n/api"), "upstream": cty.StringVal("u"),
			"user": cty.StringVal("a"), "password": cty.StringVal("pw")}, "setting password: must be a secret reference"},
		{"bad ca", map[string]cty.Value{"url": cty.StringVal("https://n/api"), "upstream": cty.StringVal("u"),
			"ca_file": cty.StringVal("/nonexistent.pem")}, "setting ca_file: open /nonexistent.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := nginxplus.FromEndpoint(&inventory.Endpoint{Name: "lb1", Driver: "nginx_plus", Settings: tt.settings})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}
