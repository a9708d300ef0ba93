package dataplane_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules/lbmember/dataplane"
	"github.com/osrun/osrun/modules/lbmember/dataplane/dataplanetest"
	"github.com/osrun/osrun/modules/lbmember/lbtest"
	"github.com/osrun/osrun/modules/lbmember/member"
)

var servers = []string{"fe01", "fe02", "fe03"}

func open(t *testing.T, url, backend, password string) *dataplane.Driver {
	t.Helper()
	d, err := dataplane.FromEndpoint(&inventory.Endpoint{Name: "lb1", Driver: "haproxy_dataplane", Settings: map[string]cty.Value{
		"url": cty.StringVal(url), "backend": cty.StringVal(backend), "user": cty.StringVal("admin"),
		"password": secret.MarkValue(cty.StringVal(password), `env("DATAPLANE_PASSWORD")`),
	}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFakeDataPlaneConforms(t *testing.T) {
	for _, version := range []string{"v2", "v3"} {
		t.Run(version, func(t *testing.T) {
			lbtest.Run(t, func(t *testing.T) *lbtest.Harness {
				fake := dataplanetest.New(t, "web", "admin", "pw", servers...)
				return &lbtest.Harness{
					Driver:     open(t, fake.URL+"/"+version, "web", "pw"),
					Members:    servers,
					Hold:       lbtest.CountedHold(fake.AddSessions),
					SetHealthy: func(t *testing.T, name string, ok bool) { fake.SetHealthy(name, ok) },
				}
			})
		})
	}
}

func TestPuts(t *testing.T) {
	fake := dataplanetest.New(t, "web", "admin", "pw", servers...)
	for _, v := range []string{"v2", "v3"} {
		d := open(t, fake.URL+"/"+v, "web", "pw")
		for _, st := range []member.State{member.Drained, member.Disabled, member.Enabled} {
			if err := d.SetState(t.Context(), "fe02", st); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := []string{
		`/v2/services/haproxy/runtime/servers/fe02?backend=web {"admin_state":"drain"}`,
		`/v2/services/haproxy/runtime/servers/fe02?backend=web {"admin_state":"maint"}`,
		`/v2/services/haproxy/runtime/servers/fe02?backend=web {"admin_state":"ready"}`,
		`/v3/services/haproxy/runtime/backends/web/servers/fe02? {"admin_state":"drain"}`,
		`/v3/services/haproxy/runtime/backends/web/servers/fe02? {"admin_state":"maint"}`,
		`/v3/services/haproxy/runtime/backends/web/servers/fe02? {"admin_state":"ready"}`,
	}
	if got := fake.Puts(); !slices.Equal(got, want) {
		t.Errorf("PUTs\n got %q\nwant %q", got, want)
	}
}

func TestErrors(t *testing.T) {
	fake := dataplanetest.New(t, "web", "admin", "pw", servers...)
	tests := []struct {
		name string
		d    *dataplane.Driver
		do   func(d *dataplane.Driver) error
		want string
		is   error
	}{
		{"wrong password", open(t, fake.URL+"/v2", "web", "nope"),
			func(d *dataplane.Driver) error { _, err := d.Members(t.Context()); return err },
			"401 Unauthorized: authentication failed", nil},
		{"unknown backend", open(t, fake.URL+"/v3", "api", "pw"),
			func(d *dataplane.Driver) error { return d.SetState(t.Context(), "fe01", member.Drained) },
			"404 Not Found: backend api not found", nil},
		{"unknown server", open(t, fake.URL+"/v2", "web", "pw"),
			func(d *dataplane.Driver) error { _, err := d.Status(t.Context(), "fe09"); return err },
			"server fe09: no such member", member.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do(tt.d)
			lbtest.WantError(t, err, tt.want, tt.is)
			if err != nil && strings.Contains(err.Error(), "nope") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
	if _, err := dataplane.FromEndpoint(&inventory.Endpoint{Name: "lb1", Settings: map[string]cty.Value{
		"url": cty.StringVal("http://lb:5555"), "backend": cty.StringVal("web"), "user": cty.StringVal("admin"),
		"password": secret.MarkValue(cty.StringVal("pw"), "env(X)")}}); err == nil || !strings.Contains(err.Error(), "with its version") {
		t.Errorf("url without version: %v", err)
	}
}
