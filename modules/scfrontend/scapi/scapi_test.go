package scapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/lab/servicecenter"
	"github.com/osrun/osrun/modules/scfrontend/scapi"
)

func secretVal(s, src string) cty.Value { return secret.MarkValue(cty.StringVal(s), src) }

func endpoint(settings inventory.Values) *inventory.Endpoint {
	return &inventory.Endpoint{Name: "sc", Driver: "http", Settings: settings}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name     string
		settings inventory.Values
		wantErr  string // substring; "" means success
	}{
		{"defaults", inventory.Values{"url": cty.StringVal("https://sc/api/")}, ""},
		{"bearer", inventory.Values{"url": cty.StringVal("https://sc"), "token": secretVal("t", `env("T")`)}, ""},
		{"basic", inventory.Values{"url": cty.StringVal("https://sc"), "user": cty.StringVal("admin"), "password": secretVal("p", `env("P")`)}, ""},
		{"no url", inventory.Values{}, "setting url: is required"},
		{"not a url", inventory.Values{"url": cty.StringVal("sc.example.com")}, `setting url: "sc.example.com" is not an http(s) URL`},
		{"credentials in url", inventory.Values{"url": cty.StringVal("https://admin:pw@sc")}, "setting url: must not hold credentials"},
		{"literal token", inventory.Values{"url": cty.StringVal("https://sc"), "token": cty.StringVal("t")}, "setting token: must be a secret reference"},
		{"token and user", inventory.Values{"url": cty.StringVal("https://sc"), "token": secretVal("t", "x"), "user": cty.StringVal("u"), "password": secretVal("p", "y")}, "not both"},
		{"user without password", inventory.Values{"url": cty.StringVal("https://sc"), "user": cty.StringVal("u")}, "user and password go together"},
		{"typo", inventory.Values{"url": cty.StringVal("https://sc"), "tokn": cty.StringVal("t")}, "setting tokn: unknown setting"},
		{"secret where none is expected", inventory.Values{"url": secretVal("https://sc", "x")}, "setting url: is a secret reference"},
		{"bad timeout", inventory.Values{"url": cty.StringVal("https://sc"), "request_timeout": cty.StringVal("soon")}, `setting request_timeout: "soon" is not a duration`},
		{"custom request", inventory.Values{"url": cty.StringVal("https://sc"), "set_deployment": cty.ObjectVal(map[string]cty.Value{
			"method": cty.StringVal("post"), "url": cty.StringVal("{url}/servers/{name}/{action}"),
			"expect_status": cty.NumberIntVal(202), "headers": cty.ObjectVal(map[string]cty.Value{"X-Key": secretVal("k", "env")}),
		})}, ""},
		{"unknown placeholder", inventory.Values{"url": cty.StringVal("https://sc"), "set_deployment": cty.ObjectVal(map[string]cty.Value{
			"url": cty.StringVal("{url}/servers/{nme}"),
		})}, "setting set_deployment.url: unknown placeholder {nme}"},
		{"nested typo", inventory.Values{"url": cty.StringVal("https://sc"), "get_frontend": cty.ObjectVal(map[string]cty.Value{
			"state_pth": cty.StringVal("x"),
		})}, "setting get_frontend.state_pth: unknown setting"},
		{"reader field on the wrong request", inventory.Values{"url": cty.StringVal("https://sc"), "set_deployment": cty.ObjectVal(map[string]cty.Value{
			"threads_path": cty.StringVal("x"),
		})}, "setting set_deployment.threads_path: unknown setting"},
		{"bad status", inventory.Values{"url": cty.StringVal("https://sc"), "get_frontend": cty.ObjectVal(map[string]cty.Value{
			"expect_status": cty.StringVal("ok"),
		})}, "setting get_frontend.expect_status: want an HTTP status"},
		{"request not an object", inventory.Values{"url": cty.StringVal("https://sc"), "get_deployer": cty.StringVal("GET")}, "setting get_deployer: want an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scapi.Decode(tt.settings)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Decode: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Decode = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
	c, _ := scapi.Decode(inventory.Values{"url": cty.StringVal("https://sc/api/")})
	if c.URL != "https://sc/api" || c.SetDeployment.Method != "PUT" || c.GetDeployer.ThreadsPath != "threads" {
		t.Errorf("defaults not applied: %+v", c)
	}
}

func simulator(t *testing.T, opts servicecenter.Options) (*servicecenter.Server, *httptest.Server) {
	t.Helper()
	opts.Version = "11.29.1"
	sim, err := servicecenter.New(opts, servicecenter.Frontend{Name: "fe01"}, servicecenter.Frontend{Name: "fe 02", DeployerStopped: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv
}

func TestClientAgainstSimulator(t *testing.T) {
	sim, srv := simulator(t, servicecenter.Options{Token: "s3cret", Threads: 3})
	c, err := scapi.New(endpoint(inventory.Values{"url": cty.StringVal(srv.URL), "token": secretVal("s3cret", `env("SC_TOKEN")`)}), scapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if on, err := c.Deployment(ctx, "fe01"); err != nil || !on {
		t.Fatalf("Deployment = %v, %v; want enabled", on, err)
	}
	if err := c.SetDeployment(ctx, "fe01", false); err != nil {
		t.Fatal(err)
	}
	if f, _ := sim.Frontend("fe01"); f.DeploymentEnabled {
		t.Fatal("SetDeployment(false) did not reach the simulator")
	}
	if on, err := c.Deployment(ctx, "fe01"); err != nil || on {
		t.Fatalf("Deployment after disable = %v, %v; want disabled", on, err)
	}
	d, err := c.Deployer(ctx, "fe01")
	if err != nil || !d.Done() || d.String() != "3/3 threads sleeping" {
		t.Fatalf("Deployer = %v (%+v), %v; want all 3 sleeping", d, d, err)
	}
	// A name that needs escaping in the path, and a stopped service.
	d, err = c.Deployer(ctx, "fe 02")
	if err != nil || d.Running || d.Done() || d.String() != "Deployment Service not running" {
		t.Fatalf("Deployer(fe 02) = %v, %v; want not running", d, err)
	}
	_, err = c.Deployment(ctx, "fe09")
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), `unknown front-end \"fe09\"`) {
		t.Errorf("unknown front-end: %v", err)
	}
}

func TestClientAuthFailure(t *testing.T) {
	_, srv := simulator(t, servicecenter.Options{Token: "right"})
	c, err := scapi.New(endpoint(inventory.Values{"url": cty.StringVal(srv.URL), "token": secretVal("wrong-token", `env("SC_TOKEN")`)}), scapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Deployment(t.Context(), "fe01")
	var se *scapi.StatusError
	if !asStatus(err, &se) || se.Status != 401 {
		t.Fatalf("Deployment with a wrong token = %v, want a 401 StatusError", err)
	}
	if strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("error shows the token: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "service_center sc: GET "+srv.URL+"/frontends/fe01: unexpected status 401") {
		t.Errorf("error = %q, want it to name the endpoint, request and status", err)
	}
}

// A custom integration: different paths, verbs, a secret API key header,
// booleans for the state and threads nested elsewhere.
func TestClientCustomContract(t *testing.T) {
	state := map[string]bool{"fe01": true}
	var gotBodies []string
	mux := http.NewServeMux()
	check := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("X-Api-Key") != "k3y" {
			http.Error(w, `{"message":"bad key"}`, 403)
			return false
		}
		return true
	}
	mux.HandleFunc("GET /api/v2/servers", func(w http.ResponseWriter, r *http.Request) {
		if !check(w, r) {
			return
		}
		name := r.URL.Query().Get("name")
		json.NewEncoder(w).Encode(map[string]any{"data": []any{map[string]any{"host": name, "isActive": state[name]}}})
	})
	mux.HandleFunc("POST /api/v2/servers/{name}/{action}", func(w http.ResponseWriter, r *http.Request) {
		if !check(w, r) {
			return
		}
		b, _ := io.ReadAll(r.Body)
		gotBodies = append(gotBodies, string(b))
		state[r.PathValue("name")] = r.PathValue("action") == "enable"
		w.WriteHeader(202)
	})
	mux.HandleFunc("GET /api/v2/servers/{name}/health", func(w http.ResponseWriter, r *http.Request) {
		if !check(w, r) {
			return
		}
		io.WriteString(w, `{"deployment":{"threads":[{"n":7,"state":"idle"},{"n":8,"state":"Deploying"}]}}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	obj := func(m map[string]cty.Value) cty.Value { return cty.ObjectVal(m) }
	c, err := scapi.New(endpoint(inventory.Values{
		"url":     cty.StringVal(srv.URL + "/api/v2"),
		"headers": obj(map[string]cty.Value{"X-Api-Key": secretVal("k3y", `env("SC_KEY")`)}),
		"get_frontend": obj(map[string]cty.Value{
			"url":            cty.StringVal("{url}/servers?name={name}"),
			"state_path":     cty.StringVal("data.0.isActive"),
			"enabled_value":  cty.StringVal("true"),
			"disabled_value": cty.StringVal("false"),
		}),
		"set_deployment": obj(map[string]cty.Value{
			"method":        cty.StringVal("POST"),
			"url":           cty.StringVal("{url}/servers/{name}/{action}"),
			"body":          cty.StringVal(`{"server":"{name}","state":"{deployment}"}`),
			"expect_status": cty.TupleVal([]cty.Value{cty.NumberIntVal(202)}),
		}),
		"get_deployer": obj(map[string]cty.Value{
			"url":          cty.StringVal("{url}/servers/{name}/health"),
			"threads_path": cty.StringVal("deployment.threads"),
			"status_field": cty.StringVal("state"),
			"id_field":     cty.StringVal("n"),
		}),
	}), scapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if on, err := c.Deployment(ctx, "fe01"); err != nil || !on {
		t.Fatalf("Deployment = %v, %v", on, err)
	}
	if err := c.SetDeployment(ctx, "fe01", false); err != nil {
		t.Fatal(err)
	}
	if on, err := c.Deployment(ctx, "fe01"); err != nil || on {
		t.Fatalf("Deployment after disable = %v, %v", on, err)
	}
	if want := `{"server":"fe01","state":"disabled"}`; len(gotBodies) != 1 || gotBodies[0] != want {
		t.Errorf("bodies = %q, want [%s]", gotBodies, want)
	}
	d, err := c.Deployer(ctx, "fe01")
	if err != nil || d.Done() || d.String() != "1/2 threads sleeping (8: Deploying)" {
		t.Fatalf("Deployer = %q, %v", d, err)
	}
}

func TestClientErrors(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		call    string // deployment | deployer | set
		wantErr string
	}{
		{"server error", 500, `{"error":"database down"}`, "deployment", `unexpected status 500 Internal Server Error: {"error":"database down"}`},
		{"not json", 200, `<html>login</html>`, "deployment", "answer is not JSON"},
		{"state missing", 200, `{"name":"fe01"}`, "deployment", `answer has no "deployment"`},
		{"odd state", 200, `{"deployment":"paused"}`, "deployment", `"deployment" is "paused", want "enabled" or "disabled"`},
		{"threads not a list", 200, `{"threads":{"a":1}}`, "deployer", `"threads" is not a list`},
		{"thread without status", 200, `{"threads":[{"id":1}]}`, "deployer", `thread 1: answer has no "status"`},
		{"set refused", 409, `busy`, "set", "unexpected status 409 Conflict: busy"},
		{"set answers text", 200, `OK`, "set", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			c, err := scapi.New(endpoint(inventory.Values{"url": cty.StringVal(srv.URL)}), scapi.Options{})
			if err != nil {
				t.Fatal(err)
			}
			switch tt.call {
			case "deployment":
				_, err = c.Deployment(t.Context(), "fe01")
			case "deployer":
				_, err = c.Deployer(t.Context(), "fe01")
			case "set":
				err = c.SetDeployment(t.Context(), "fe01", true)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "service_center sc: ") {
				t.Fatalf("err = %v, want it to start with the endpoint and contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	a, b := &inventory.Endpoint{Name: "a"}, &inventory.Endpoint{Name: "b"}
	inv := &inventory.Inventory{
		Zones:          []*inventory.Zone{{Name: "z1", ServiceCenter: "a"}, {Name: "z2"}},
		ServiceCenters: map[string]*inventory.Endpoint{"a": a, "b": b},
	}
	tests := []struct {
		name, zone, override string
		inv                  *inventory.Inventory
		want                 *inventory.Endpoint
		wantErr              string
	}{
		{"zone", "z1", "", inv, a, ""},
		{"override", "z1", "b", inv, b, ""},
		{"zone without", "z2", "", inv, nil, "zone z2 names no service_center"},
		{"unknown override", "z1", "c", inv, nil, `no service_center "c"`},
		{"only one", "z2", "", &inventory.Inventory{ServiceCenters: map[string]*inventory.Endpoint{"b": b}}, b, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scapi.Resolve(tt.inv, &inventory.Host{Name: "fe", Zone: tt.zone}, tt.override)
			if got != tt.want || (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Resolve = %v, %v; want %v, %q", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
