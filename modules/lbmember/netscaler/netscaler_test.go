package netscaler_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules/lbmember/lbtest"
	"github.com/osrun/osrun/modules/lbmember/member"
	"github.com/osrun/osrun/modules/lbmember/netscaler"
	"github.com/osrun/osrun/modules/lbmember/netscaler/netscalertest"
)

var members = []string{"fe01:80", "fe02:80", "fe03:80"}

func open(t *testing.T, url, password string, extra map[string]cty.Value) *netscaler.Driver {
	t.Helper()
	s := map[string]cty.Value{
		"url": cty.StringVal(url), "servicegroup": cty.StringVal("sg_web"), "user": cty.StringVal("nsroot"),
		"password": secret.MarkValue(cty.StringVal(password), `env("NITRO_PASSWORD")`),
	}
	for k, v := range extra {
		s[k] = v
	}
	d, err := netscaler.FromEndpoint(&inventory.Endpoint{Name: "adc", Driver: "netscaler", Settings: s})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFakeNetScalerConforms(t *testing.T) {
	lbtest.Run(t, func(t *testing.T) *lbtest.Harness {
		fake := netscalertest.New(t, "sg_web", "nsroot", "pw", members...)
		return &lbtest.Harness{
			Driver:     open(t, fake.URL, "pw", nil),
			Members:    members,
			Hold:       lbtest.CountedHold(fake.AddConns),
			SetHealthy: func(t *testing.T, name string, ok bool) { fake.SetMonitor(name, ok) },
		}
	})
}

func TestActionBodies(t *testing.T) {
	fake := netscalertest.New(t, "sg_web", "nsroot", "pw", members...)
	d := open(t, fake.URL, "pw", map[string]cty.Value{"drain_delay": cty.StringVal("10m")})
	for _, st := range []member.State{member.Drained, member.Drained, member.Disabled, member.Drained, member.Enabled} {
		if err := d.SetState(t.Context(), "fe02", st); err != nil {
			t.Fatal(err)
		}
	}
	const m = `{"servicegroup":{"port":80,"servername":"fe02","servicegroupname":"sg_web"`
	want := []string{
		"disable " + `{"servicegroup":{"delay":600,"port":80,"servername":"fe02","servicegroupname":"sg_web"}}`,
		"disable " + m + "}}",
		"enable " + m + "}}",
		"disable " + `{"servicegroup":{"delay":600,"port":80,"servername":"fe02","servicegroupname":"sg_web"}}`,
		"enable " + m + "}}",
	}
	if got := fake.Actions(); !slices.Equal(got, want) {
		t.Errorf("actions\n got %q\nwant %q", got, want)
	}
}

// Past drain_delay NetScaler takes the member out by itself.
func TestDrainDelayPasses(t *testing.T) {
	fake := netscalertest.New(t, "sg_web", "nsroot", "pw", members...)
	d := open(t, fake.URL, "pw", nil)
	if err := d.SetState(t.Context(), "fe01:80", member.Drained); err != nil {
		t.Fatal(err)
	}
	fake.ExpireDelays()
	st, err := d.Status(t.Context(), "fe01:80")
	if err != nil || st.State != member.Disabled || st.Detail != "OUT OF SERVICE" {
		t.Errorf("after the delay: %+v, %v", st, err)
	}
}

func TestErrors(t *testing.T) {
	fake := netscalertest.New(t, "sg_web", "nsroot", "pw", members...)
	tests := []struct {
		name string
		d    *netscaler.Driver
		do   func(d *netscaler.Driver) error
		want string
		is   error
	}{
		{"wrong password", open(t, fake.URL, "nope", nil),
			func(d *netscaler.Driver) error { _, err := d.Members(t.Context()); return err },
			"401 Unauthorized: errorcode 354: Invalid username or password", nil},
		{"unknown group", open(t, fake.URL, "pw", map[string]cty.Value{"servicegroup": cty.StringVal("sg_x")}),
			func(d *netscaler.Driver) error { _, err := d.Members(t.Context()); return err },
			"errorcode 258: No such resource [servicegroupName, sg_x]", netscaler.ErrServiceGroupNotFound},
		{"unknown member", open(t, fake.URL, "pw", nil),
			func(d *netscaler.Driver) error { return d.SetState(t.Context(), "fe09", member.Disabled) },
			"member fe09: no such member", member.ErrNotFound},
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
}
