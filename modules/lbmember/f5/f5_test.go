package f5_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/lbmember"
	"github.com/osrun/osrun/modules/lbmember/f5"
	"github.com/osrun/osrun/modules/lbmember/f5/f5test"
	"github.com/osrun/osrun/modules/lbmember/lbtest"
	"github.com/osrun/osrun/modules/lbmember/member"
)

var members = []string{"10.0.0.11:80", "10.0.0.12:80", "10.0.0.13:80"}

func newDriver(fake *f5test.Server, password string, basic bool) *f5.Driver {
	// The fake's certificate is self-signed; the TLS settings are tested
	// through FromEndpoint below.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: insecureTLS()}}
	return f5.New(f5.Config{URL: fake.URL, Pool: "outsystems", User: "admin",
		Password: secret.New(password, `env("F5_PASSWORD")`), Basic: basic, Client: client})
}

func TestFakeF5Conforms(t *testing.T) {
	for _, basic := range []bool{false, true} {
		t.Run(map[bool]string{false: "token", true: "basic"}[basic], func(t *testing.T) {
			lbtest.Run(t, func(t *testing.T) *lbtest.Harness {
				fake := f5test.New(t, "outsystems", "admin", "pw", members...)
				return &lbtest.Harness{
					Driver:     newDriver(fake, "pw", basic),
					Members:    members,
					Hold:       lbtest.CountedHold(fake.AddConns),
					SetHealthy: func(t *testing.T, name string, ok bool) { fake.SetMonitor(name, ok) },
				}
			})
		})
	}
}

func TestPatchBodiesAndTokenReuse(t *testing.T) {
	fake := f5test.New(t, "outsystems", "admin", "pw", members...)
	d := newDriver(fake, "pw", false)
	for _, st := range []member.State{member.Drained, member.Disabled, member.Enabled} {
		if err := d.SetState(t.Context(), "10.0.0.12:80", st); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		`{"session":"user-disabled","state":"user-up"}`,
		`{"session":"user-disabled","state":"user-down"}`,
		`{"session":"user-enabled","state":"user-up"}`,
	}
	if got := fake.Patches(); !slices.Equal(got, want) {
		t.Errorf("PATCH bodies\n got %q\nwant %q", got, want)
	}
	if n := fake.Logins(); n != 1 {
		t.Errorf("%d logins, want the token reused", n)
	}
	fake.ExpireTokens()
	if _, err := d.Status(t.Context(), "/Common/10.0.0.12:80"); err != nil {
		t.Fatalf("after the token expired: %v", err)
	}
	if n := fake.Logins(); n != 2 {
		t.Errorf("%d logins, want one more after the token expired", n)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name     string
		password string
		basic    bool
		do       func(d *f5.Driver) error
		want     string
		is       error
	}{
		{"bad login", "wrong", false, func(d *f5.Driver) error { _, err := d.Members(t.Context()); return err },
			"f5 pool /Common/outsystems at https://127.0.0.1", nil},
		{"bad login message", "wrong", false, func(d *f5.Driver) error { _, err := d.Members(t.Context()); return err },
			"log in as admin: 401 unauthorized: Authentication failed.", nil},
		{"bad basic", "wrong", true, func(d *f5.Driver) error { _, err := d.Members(t.Context()); return err },
			"401 unauthorized: Authorization failed: user=admin", nil},
		{"unknown member", "pw", false, func(d *f5.Driver) error { return d.SetState(t.Context(), "10.0.0.99:80", member.Drained) },
			"member 10.0.0.99:80: no such member", member.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := f5test.New(t, "outsystems", "admin", "pw", members...)
			err := tt.do(newDriver(fake, tt.password, tt.basic))
			lbtest.WantError(t, err, tt.want, tt.is)
			if err != nil && strings.Contains(err.Error(), "wrong") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
	fake := f5test.New(t, "outsystems", "admin", "pw", members...)
	d := f5.New(f5.Config{URL: fake.URL, Pool: "web", User: "admin", Password: secret.New("pw", "x"),
		Client: &http.Client{Transport: &http.Transport{TLSClientConfig: insecureTLS()}}})
	_, err := d.Members(t.Context())
	if !errors.Is(err, f5.ErrPoolNotFound) || !strings.Contains(err.Error(), "01020036:3: The requested Pool (/Common/web) was not found.") {
		t.Errorf("unknown pool: %v", err)
	}
}

func TestFromEndpoint(t *testing.T) {
	fake := f5test.New(t, "outsystems", "admin", "pw", members...)
	pw := secret.MarkValue(cty.StringVal("pw"), `env("F5_PASSWORD")`)
	tests := []struct {
		name     string
		settings map[string]cty.Value
		want     string
	}{
		{"ok with insecure", map[string]cty.Value{"url": cty.StringVal(fake.URL), "pool": cty.StringVal("outsystems"),
			"user": cty.StringVal("admin"), "password": pw, "insecure": cty.True}, ""},
		{"certificate refused", map[string]cty.Value{"url": cty.StringVal(fake.URL), "pool": cty.StringVal("outsystems"),
			"user": cty.StringVal("admin"), "password": pw}, "certificate"},
		{"literal password", map[string]cty.Value{"url": cty.StringVal(fake.URL), "pool": cty.StringVal("outsystems"),
			"user": cty.StringVal("admin"), "password": cty.StringVal("pw")}, "setting password: must be a secret reference"},
		{"bad auth", map[string]cty.Value{"url": cty.StringVal(fake.URL), "pool": cty.StringVal("outsystems"),
			"user": cty.StringVal("admin"), "password": pw, "auth": cty.StringVal("ntlm")}, `"ntlm" is not token or basic`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := f5.FromEndpoint(&inventory.Endpoint{Name: "lb2", Driver: "f5", Settings: tt.settings})
			if err == nil {
				_, err = d.Members(t.Context())
			}
			if tt.want == "" && err != nil {
				t.Fatal(err)
			}
			if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

// The module's min_in_rotation guard must recognise the member however the
// inventory spells it: here as a full path, while F5 lists "10.0.0.11:80".
func TestModuleGuardWithFullPath(t *testing.T) {
	fake := f5test.New(t, "outsystems", "admin", "pw", "10.0.0.11:80", "10.0.0.12:80")
	if err := newDriver(fake, "pw", false).SetState(t.Context(), "10.0.0.12:80", member.Disabled); err != nil {
		t.Fatal(err)
	}
	reg := lbmember.NewRegistry()
	reg.Register("f5", func(*inventory.Endpoint) (lbmember.Driver, error) { return newDriver(fake, "pw", false), nil })
	def := lbmember.Definition(lbmember.Options{Drivers: reg})
	args := modules.Args{}
	for _, p := range def.Params {
		args[p.Name] = p.Default
		if p.Default == cty.NilVal {
			args[p.Name] = cty.NullVal(p.Type)
		}
	}
	args["state"] = cty.StringVal("drained")
	a, err := def.New(args)
	if err != nil {
		t.Fatal(err)
	}
	h := &inventory.Host{Name: "fe01", Zone: "default", Member: "/Common/10.0.0.11:80"}
	env := &modules.Env{Host: h, Inventory: &inventory.Inventory{
		Hosts:         []*inventory.Host{h},
		Zones:         []*inventory.Zone{{Name: "default", LoadBalancer: "lb2", Hosts: []*inventory.Host{h}}},
		LoadBalancers: map[string]*inventory.Endpoint{"lb2": {Name: "lb2", Driver: "f5"}},
	}}
	_, err = a.Apply(t.Context(), env)
	if err == nil || !strings.Contains(err.Error(), "refusing to take /Common/10.0.0.11:80 out of f5 pool /Common/outsystems") {
		t.Errorf("Apply = %v, want a refusal", err)
	}
}
