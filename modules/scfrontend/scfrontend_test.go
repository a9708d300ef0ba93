package scfrontend_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/lab/servicecenter"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/approval"
	"github.com/osrun/osrun/modules/approval/approvaltest"
	"github.com/osrun/osrun/modules/moduletest"
	"github.com/osrun/osrun/modules/scfrontend"
)

// farm is one front-end in a zone served by the service_center "sc".
func farm(driver string, settings inventory.Values) *modules.Env {
	host := &inventory.Host{Name: "fe01", Zone: "z1", Roles: []inventory.Role{inventory.RoleFrontend}}
	inv := &inventory.Inventory{
		Hosts:          []*inventory.Host{host},
		Zones:          []*inventory.Zone{{Name: "z1", ServiceCenter: "sc", Hosts: []*inventory.Host{host}}},
		ServiceCenters: map[string]*inventory.Endpoint{"sc": {Name: "sc", Driver: driver, Settings: settings}},
	}
	return &modules.Env{Host: host, Inventory: inv, Progress: func(string) {}}
}

// newAction builds the task the way the loader would: declared params,
// defaults applied, then the given arguments.
func newAction(t *testing.T, def *modules.Definition, args map[string]cty.Value) modules.Action {
	t.Helper()
	act, err := def.New(moduletest.Args(t, def, args))
	if err != nil {
		t.Fatal(err)
	}
	return act
}

func token(s string) cty.Value { return secret.MarkValue(cty.StringVal(s), `env("SC_TOKEN")`) }

func TestHTTPDriver(t *testing.T) {
	tests := []struct {
		name        string
		startOn     bool
		want        string
		wantChanged bool
		wantCheck   string
		wantApply   string
	}{
		{"disable an enabled front-end", true, "disabled", true, "would disable deployment on fe01", "deployment disabled on fe01 (was enabled)"},
		{"enable a disabled front-end", false, "enabled", true, "would enable deployment on fe01", "deployment enabled on fe01 (was disabled)"},
		{"already disabled", false, "disabled", false, "deployment already disabled on fe01", "deployment already disabled on fe01"},
		{"already enabled", true, "enabled", false, "deployment already enabled on fe01", "deployment already enabled on fe01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, err := servicecenter.New(servicecenter.Options{Version: "11.29.1", Token: "tok"},
				servicecenter.Frontend{Name: "fe01", DeploymentDisabled: !tt.startOn})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(sim)
			t.Cleanup(srv.Close)
			env := farm("http", inventory.Values{"url": cty.StringVal(srv.URL), "token": token("tok")})
			act := newAction(t, scfrontend.Definition(scfrontend.Options{}), map[string]cty.Value{"deployment": cty.StringVal(tt.want)})

			check, err := act.Check(t.Context(), env)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if check.Changed != tt.wantChanged || check.Msg != tt.wantCheck {
				t.Errorf("Check = %v %q, want %v %q", check.Changed, check.Msg, tt.wantChanged, tt.wantCheck)
			}
			if f, _ := sim.Frontend("fe01"); f.DeploymentEnabled != tt.startOn {
				t.Fatal("Check changed Service Center")
			}
			apply, err := act.Apply(t.Context(), env)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if apply.Changed != check.Changed || apply.Msg != tt.wantApply {
				t.Errorf("Apply = %v %q, want %v %q (as Check predicted)", apply.Changed, apply.Msg, check.Changed, tt.wantApply)
			}
			if tt.wantChanged && !strings.Contains(apply.Diff, "+ deployment = \""+tt.want+"\"") {
				t.Errorf("Diff = %q", apply.Diff)
			}
			if f, _ := sim.Frontend("fe01"); f.DeploymentEnabled != (tt.want == "enabled") {
				t.Fatalf("Service Center shows deployment enabled=%v after Apply", f.DeploymentEnabled)
			}
			again, err := act.Apply(t.Context(), env)
			if err != nil || again.Changed {
				t.Errorf("second Apply = %+v, %v; want no change", again, err)
			}
			if got := apply.Output["deployment"]; !got.RawEquals(cty.StringVal(tt.want)) {
				t.Errorf("Output deployment = %#v", got)
			}
		})
	}
}

func TestHTTPDriverFrontendName(t *testing.T) {
	sim, _ := servicecenter.New(servicecenter.Options{Version: "1"}, servicecenter.Frontend{Name: "FE-01.corp"})
	env := farm("http", inventory.Values{"url": cty.StringVal("http://sc.invalid")})
	act := newAction(t, scfrontend.Definition(scfrontend.Options{Transport: sim.Transport()}), map[string]cty.Value{
		"deployment": cty.StringVal("disabled"), "frontend": cty.StringVal("FE-01.corp")})
	if _, err := act.Apply(t.Context(), env); err != nil {
		t.Fatal(err)
	}
	if f, _ := sim.Frontend("FE-01.corp"); f.DeploymentEnabled {
		t.Error("the front-end named by the frontend argument was not disabled")
	}
}

func TestHTTPDriverErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		token   string
		wantErr string
	}{
		{"unauthorised", nil, "wrong", "read deployment state of fe01: service_center sc: GET %URL%/frontends/fe01: unexpected status 401"},
		{"unknown front-end", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(404)
			io.WriteString(w, `{"error":"unknown front-end \"fe01\""}`)
		}, "", `unexpected status 404 Not Found: {"error":"unknown front-end \"fe01\""}`},
		{"server error", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, "", "unexpected status 500 Internal Server Error: boom"},
		{"bad json", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{deployment:") }, "", "answer is not JSON"},
		{"set refused", func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "PUT" {
				http.Error(w, `{"error":"read-only"}`, 403)
				return
			}
			io.WriteString(w, `{"deployment":"enabled"}`)
		}, "", `disable deployment on fe01: service_center sc: PUT %URL%/frontends/fe01/deployment: unexpected status 403 Forbidden: {"error":"read-only"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h http.Handler = tt.handler
			if tt.handler == nil {
				sim, _ := servicecenter.New(servicecenter.Options{Version: "1", Token: "right"}, servicecenter.Frontend{Name: "fe01"})
				h = sim
			}
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			settings := inventory.Values{"url": cty.StringVal(srv.URL)}
			if tt.token != "" {
				settings["token"] = token(tt.token)
			}
			act := newAction(t, scfrontend.Definition(scfrontend.Options{}), map[string]cty.Value{"deployment": cty.StringVal("disabled")})
			_, err := act.Apply(t.Context(), farm("http", settings))
			want := strings.ReplaceAll(tt.wantErr, "%URL%", srv.URL)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Apply = %v, want an error containing %q", err, want)
			}
		})
	}
}

// An integration that accepts the change but never shows it: Apply must
// give up after its timeout, saying what it saw.
func TestHTTPDriverVerifyTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "PUT" {
				w.WriteHeader(204)
				return
			}
			io.WriteString(w, `{"deployment":"enabled"}`)
		})
		env := farm("http", inventory.Values{"url": cty.StringVal("http://sc.invalid")})
		act := newAction(t, scfrontend.Definition(scfrontend.Options{Transport: handlerTransport{h}}), map[string]cty.Value{
			"deployment": cty.StringVal("disabled"), "wait_timeout": cty.StringVal("1m")})
		start := time.Now()
		_, err := act.Apply(t.Context(), env)
		if err == nil || !strings.Contains(err.Error(), "verify deployment disabled on fe01 after 1m0s: service center still shows deployment enabled") {
			t.Fatalf("Apply = %v", err)
		}
		if took := time.Since(start); took < time.Minute || took > time.Minute+5*time.Second {
			t.Errorf("gave up after %v, want about 1m", took)
		}
	})
}

func TestManualDriver(t *testing.T) {
	for _, want := range []string{"disabled", "enabled"} {
		t.Run(want, func(t *testing.T) {
			gate := &approvaltest.Recorder{}
			env := farm("manual", inventory.Values{"url": cty.StringVal("https://sc.example.com/ServiceCenter")})
			act := newAction(t, scfrontend.Definition(scfrontend.Options{Gate: gate}), map[string]cty.Value{"deployment": cty.StringVal(want)})
			button, verb := "Disable", "disable"
			if want == "enabled" {
				button, verb = "Enable", "enable"
			}

			check, err := act.Check(t.Context(), env)
			if err != nil || !check.Changed || !strings.HasPrefix(check.Msg, "would ask the operator to "+verb+" deployment on fe01") {
				t.Fatalf("Check = %+v, %v", check, err)
			}
			if len(gate.IDs) != 0 {
				t.Fatal("Check asked the operator")
			}
			apply, err := act.Apply(t.Context(), env)
			if err != nil || !apply.Changed {
				t.Fatalf("Apply = %+v, %v", apply, err)
			}
			if len(gate.IDs) != 1 || gate.IDs[0] != "sc_frontend."+verb+".fe01" {
				t.Fatalf("gate ids = %v", gate.IDs)
			}
			for _, s := range []string{"Service Center » Administration » Servers » fe01 » " + button, "https://sc.example.com/ServiceCenter", "Press " + button} {
				if !strings.Contains(gate.Instructions[0], s) {
					t.Errorf("instructions lack %q:\n%s", s, gate.Instructions[0])
				}
			}
			again, err := act.Apply(t.Context(), env)
			if err != nil || again.Changed || len(gate.IDs) != 1 {
				t.Errorf("second Apply = %+v, %v (asked %d times); want no change, no question", again, err, len(gate.IDs))
			}
		})
	}
}

func TestManualDriverPreapproved(t *testing.T) {
	env := farm("manual", nil)
	act := newAction(t, scfrontend.Definition(scfrontend.Options{Gate: approval.Preapproved{"sc_frontend.disable"}}),
		map[string]cty.Value{"deployment": cty.StringVal("disabled")})
	if r, err := act.Apply(t.Context(), env); err != nil || !r.Changed {
		t.Fatalf("Apply = %+v, %v", r, err)
	}
	act = newAction(t, scfrontend.Definition(scfrontend.Options{Gate: approval.Preapproved{"sc_frontend.disable"}}),
		map[string]cty.Value{"deployment": cty.StringVal("enabled")})
	if _, err := act.Apply(t.Context(), env); !errors.Is(err, approval.ErrUndecided) {
		t.Fatalf("Apply of a gate not pre-approved = %v, want ErrUndecided", err)
	}
}

func TestManualDriverFailures(t *testing.T) {
	tests := []struct {
		name    string
		gate    approval.Gate
		wantIs  error
		wantErr string
	}{
		{"no gate", nil, nil, "disable deployment on fe01: the manual driver needs an approval gate"},
		{"denied", &approvaltest.Recorder{Err: approval.ErrDenied}, approval.ErrDenied, "disable deployment on fe01: waiting for the operator: denied"},
		{"timeout", &approval.File{}, approval.ErrTimeout, "no approval before the timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				if f, ok := tt.gate.(*approval.File); ok {
					f.Dir = t.TempDir()
				}
				act := newAction(t, scfrontend.Definition(scfrontend.Options{Gate: tt.gate}),
					map[string]cty.Value{"deployment": cty.StringVal("disabled"), "wait_timeout": cty.StringVal("10m")})
				_, err := act.Apply(t.Context(), farm("manual", nil))
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Fatalf("Apply = %v, want %q", err, tt.wantErr)
				}
			})
		})
	}
}

func TestEndpointErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     *modules.Env
		args    map[string]cty.Value
		wantErr string
	}{
		{"unknown driver", farm("selenium", nil), nil, `service_center sc: driver "selenium" is not http or manual`},
		{"bad settings", farm("http", inventory.Values{"url": cty.StringVal("https://sc"), "tokn": cty.StringVal("y")}), nil, "service_center sc: setting tokn: unknown setting"},
		{"manual typo", farm("manual", inventory.Values{"ulr": cty.StringVal("x")}), nil, "service_center sc: setting ulr: unknown setting"},
		{"unknown block", farm("http", nil), map[string]cty.Value{"service_center": cty.StringVal("other")}, `no service_center "other"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := map[string]cty.Value{"deployment": cty.StringVal("disabled")}
			for k, v := range tt.args {
				args[k] = v
			}
			act := newAction(t, scfrontend.Definition(scfrontend.Options{}), args)
			for _, run := range []func(context.Context, *modules.Env) (modules.Result, error){act.Check, act.Apply} {
				if _, err := run(t.Context(), tt.env); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
			}
		})
	}
}

func TestDefinition(t *testing.T) {
	def := scfrontend.Definition(scfrontend.Options{})
	if def.Name != "sc_frontend" || def.DefaultOn != modules.OnControl {
		t.Errorf("Name %q DefaultOn %q", def.Name, def.DefaultOn)
	}
	for arg, want := range map[string]modules.Deployment{"enabled": modules.DeploymentEnabled, "disabled": modules.DeploymentDisabled} {
		if got := def.Effects(modules.Args{"deployment": cty.StringVal(arg)}); got != (modules.Effect{Deployment: want}) {
			t.Errorf("Effects(deployment = %q) = %+v", arg, got)
		}
	}
	if _, err := def.New(modules.Args{"deployment": cty.StringVal("disabled"), "frontend": cty.NullVal(cty.String),
		"service_center": cty.NullVal(cty.String), "wait_timeout": cty.StringVal("soon")}); err == nil {
		t.Error("a bad timeout was accepted")
	}
}

// handlerTransport serves requests in process, so tests can run under
// testing/synctest.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}
