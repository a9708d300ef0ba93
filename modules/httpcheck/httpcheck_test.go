package httpcheck_test

import (
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/httpcheck"
	"github.com/osrun/osrun/modules/moduletest"
)

func newAction(t *testing.T, args map[string]cty.Value) (modules.Action, error) {
	t.Helper()
	def := httpcheck.Definition(httpcheck.Options{})
	return def.New(moduletest.Args(t, def, args))
}

func env(address string) *modules.Env {
	return &modules.Env{Host: &inventory.Host{Name: "fe01", Address: address}, Progress: func(string) {}}
}

// app answers like an application server: its version on /, 503 on
// /down, a redirect on /login, and it echoes the Host header on /host.
func app(t *testing.T) (*httptest.Server, string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<h1>MyApp</h1> platform 11.31.0") })
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "Service Unavailable: installing", 503) })
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://apps.example.com/login", 302)
	})
	mux.HandleFunc("/host", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "host="+r.Host) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, strings.TrimPrefix(srv.URL, "http://")
}

func TestHTTPCheck(t *testing.T) {
	srv, addr := app(t)
	ip, port, _ := net.SplitHostPort(addr)
	tests := []struct {
		name    string
		address string
		args    map[string]cty.Value
		wantMsg string // for success
		wantErr string // substring, for failure
	}{
		{"default", addr, nil, "GET http://" + addr + "/: 200 OK", ""},
		{"port argument", ip, map[string]cty.Value{"port": cty.NumberIntVal(mustAtoi(port))}, "GET http://" + addr + "/: 200 OK", ""},
		{"url", "ignored", map[string]cty.Value{"url": cty.StringVal(srv.URL + "/")}, "GET " + srv.URL + "/: 200 OK", ""},
		{"head", addr, map[string]cty.Value{"method": cty.StringVal("HEAD")}, "HEAD http://" + addr + "/: 200 OK", ""},
		{"body matches", addr, map[string]cty.Value{"body_regex": cty.StringVal(`platform 11\.31`)}, "GET http://" + addr + "/: 200 OK", ""},
		{"host header", addr, map[string]cty.Value{"path": cty.StringVal("/host"), "host_header": cty.StringVal("apps.example.com"), "body_regex": cty.StringVal("^host=apps.example.com$")},
			"GET http://" + addr + "/host (Host: apps.example.com): 200 OK", ""},
		{"redirect not followed", addr, map[string]cty.Value{"path": cty.StringVal("login"), "expect_status": cty.NumberIntVal(302)}, "GET http://" + addr + "/login: 302 Found", ""},
		{"wrong status", addr, map[string]cty.Value{"path": cty.StringVal("/down")}, "",
			"GET http://" + addr + "/down: got 503 Service Unavailable, want 200; body: Service Unavailable: installing"},
		{"redirect reported", addr, map[string]cty.Value{"path": cty.StringVal("/login")}, "",
			"got 302 Found, want 200 (Location: https://apps.example.com/login)"},
		{"body mismatch", addr, map[string]cty.Value{"body_regex": cty.StringVal(`platform 11\.29`)}, "",
			`got 200, but the body does not match "platform 11\\.29"; body: <h1>MyApp</h1> platform 11.31.0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			act, err := newAction(t, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			for _, run := range []struct {
				name string
				f    func() (modules.Result, error)
			}{{"Check", func() (modules.Result, error) { return act.Check(t.Context(), env(tt.address)) }},
				{"Apply", func() (modules.Result, error) { return act.Apply(t.Context(), env(tt.address)) }}} {
				r, err := run.f()
				if run.name == "Check" && tt.name == "body mismatch" {
					// A rehearsal upgraded nothing: a body that does not match
					// yet is reported, not failed.
					if err != nil || !strings.Contains(r.Msg, "would check again after the earlier tasks: "+tt.wantErr) || r.Changed {
						t.Fatalf("Check = %+v, %v; want the mismatch reported without failing", r, err)
					}
					continue
				}
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("%s = %v, want an error containing %q", run.name, err, tt.wantErr)
					}
					continue
				}
				if err != nil || r.Msg != tt.wantMsg || r.Changed {
					t.Fatalf("%s = %+v, %v; want %q, no change", run.name, r, err, tt.wantMsg)
				}
			}
		})
	}
}

func mustAtoi(s string) int64 {
	var n int64
	fmt.Sscan(s, &n)
	return n
}

func TestTimeoutAndRefused(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); slow.Close() })
	act, _ := newAction(t, map[string]cty.Value{"request_timeout": cty.StringVal("50ms")})
	_, err := act.Apply(t.Context(), env(strings.TrimPrefix(slow.URL, "http://")))
	if err == nil || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Fatalf("slow server: %v", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = act.Apply(t.Context(), env(addr))
	if err == nil || !strings.Contains(err.Error(), "GET http://"+addr+"/: dial tcp "+addr+": connect: connection refused") {
		t.Fatalf("closed port: %v", err)
	}
}

func TestTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secure") }))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "https://")
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    map[string]cty.Value
		wantErr string
	}{
		{"untrusted", map[string]cty.Value{}, "certificate signed by unknown authority"},
		{"insecure", map[string]cty.Value{"insecure": cty.True}, ""},
		{"ca_file", map[string]cty.Value{"ca_file": cty.StringVal(ca)}, ""},
		// The test certificate names example.com: the Host header is also the TLS name.
		{"ca_file and server name", map[string]cty.Value{"ca_file": cty.StringVal(ca), "host_header": cty.StringVal("example.com")}, ""},
		{"wrong server name", map[string]cty.Value{"ca_file": cty.StringVal(ca), "host_header": cty.StringVal("apps.example.org")}, "certificate is valid for"},
		{"missing ca_file", map[string]cty.Value{"ca_file": cty.StringVal(filepath.Join(t.TempDir(), "nope.pem"))}, "ca_file: open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.args["scheme"] = cty.StringVal("https")
			act, err := newAction(t, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			_, err = act.Apply(t.Context(), env(addr))
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Apply = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestArguments(t *testing.T) {
	tests := []struct {
		name    string
		args    map[string]cty.Value
		wantErr string
	}{
		{"url and path", map[string]cty.Value{"url": cty.StringVal("http://x/"), "path": cty.StringVal("/a")}, "give either url or scheme/port/path"},
		{"bad url", map[string]cty.Value{"url": cty.StringVal("ftp://x/")}, "is not an http(s) URL"},
		{"bad port", map[string]cty.Value{"port": cty.NumberIntVal(70000)}, "argument port"},
		{"bad status", map[string]cty.Value{"expect_status": cty.NumberIntVal(42)}, "argument expect_status"},
		{"bad regex", map[string]cty.Value{"body_regex": cty.StringVal("(")}, "argument body_regex"},
		{"bad timeout", map[string]cty.Value{"request_timeout": cty.StringVal("0s")}, "argument request_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := newAction(t, tt.args); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New = %v, want %q", err, tt.wantErr)
			}
		})
	}
	def := httpcheck.Definition(httpcheck.Options{})
	if def.Name != "http_check" || def.DefaultOn != modules.OnControl {
		t.Errorf("Name %q DefaultOn %q", def.Name, def.DefaultOn)
	}
}
