package servicecenter

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHTTPContract(t *testing.T) {
	c := newClock()
	s, err := New(Options{Version: "11.29.1", Threads: 2, DeployTime: time.Second, Now: c.Now, Token: "tok", User: "admin", Password: "pw"},
		Frontend{Name: "fe01"}, Frontend{Name: "fe02", DeployerStopped: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)

	tests := []struct {
		name       string
		method     string
		path, body string
		auth       func(*http.Request)
		wantStatus int
		wantBody   string // JSON, compared after normalising
	}{
		{"no credentials", "GET", "/frontends/fe01", "", nil, 401, `{"error":"authentication required"}`},
		{"wrong token", "GET", "/frontends/fe01", "", bearer("nope"), 401, `{"error":"authentication required"}`},
		{"wrong password", "GET", "/frontends/fe01", "", basic("admin", "x"), 401, `{"error":"authentication required"}`},
		{"basic", "GET", "/frontends/fe01", "", basic("admin", "pw"), 200,
			`{"name":"fe01","deployment":"enabled","platform_version":"11.29.1"}`},
		{"list", "GET", "/frontends", "", bearer("tok"), 200,
			`{"frontends":[{"name":"fe01","deployment":"enabled","platform_version":"11.29.1"},{"name":"fe02","deployment":"enabled","platform_version":"11.29.1"}]}`},
		{"unknown", "GET", "/frontends/fe09", "", bearer("tok"), 404, `{"error":"unknown front-end \"fe09\""}`},
		{"disable", "PUT", "/frontends/fe01/deployment", `{"enabled":false}`, bearer("tok"), 200,
			`{"name":"fe01","deployment":"disabled","platform_version":"11.29.1"}`},
		{"disable again", "PUT", "/frontends/fe01/deployment", `{"enabled":false}`, bearer("tok"), 200,
			`{"name":"fe01","deployment":"disabled","platform_version":"11.29.1"}`},
		{"bad body", "PUT", "/frontends/fe01/deployment", `{"enable":true}`, bearer("tok"), 400,
			`{"error":"body must be {\"enabled\": true|false}"}`},
		{"put unknown", "PUT", "/frontends/fe09/deployment", `{"enabled":true}`, bearer("tok"), 404,
			`{"error":"unknown front-end \"fe09\""}`},
		{"threads", "GET", "/frontends/fe01/deployer", "", bearer("tok"), 200,
			`{"name":"fe01","service":"running","threads":[{"id":1,"status":"Sleeping"},{"id":2,"status":"Sleeping"}]}`},
		{"threads stopped", "GET", "/frontends/fe02/deployer", "", bearer("tok"), 200,
			`{"name":"fe02","service":"stopped","threads":[]}`},
		{"wrong method", "DELETE", "/frontends/fe01", "", bearer("tok"), 405, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if tt.auth != nil {
				tt.auth(req)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantBody != "" && normalise(t, string(body)) != normalise(t, tt.wantBody) {
				t.Errorf("body\n got %s\nwant %s", body, tt.wantBody)
			}
		})
	}
}

func TestTransportServesInProcess(t *testing.T) {
	s, _ := New(Options{Version: "1"}, Frontend{Name: "fe01"})
	client := &http.Client{Transport: s.Transport()}
	req, _ := http.NewRequestWithContext(t.Context(), "PUT", "http://sc.invalid/frontends/fe01/deployment", strings.NewReader(`{"enabled":false}`))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if f, _ := s.Frontend("fe01"); f.DeploymentEnabled {
		t.Errorf("PUT through Transport did not disable deployment")
	}
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func basic(u, p string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(u, p) }
}

func normalise(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON: %s", s)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
