package dataplanetest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	URL string // the server root; the API is under /v2 and /v3

	backend, user, pass string

	mu      sync.Mutex
	servers []*server
	puts    []string
}

type server struct {
	name     string
	admin    string // ready, drain, maint
	down     bool   // failing health check
	rising   bool   // just left maint: one read between checks
	sessions int
}

// New starts a fake with one backend of the named servers.
func New(t *testing.T, backend, user, pass string, servers ...string) *Server {
	s := &Server{backend: backend, user: user, pass: pass}
	for _, n := range servers {
		s.servers = append(s.servers, &server{name: n, admin: "ready"})
	}
	ts := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(ts.Close)
	s.URL = ts.URL
	return s
}

// AddSessions changes a server's scur.
func (s *Server) AddSessions(name string, delta int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if x := s.find(name); x != nil {
		x.sessions = max(0, x.sessions+delta)
	}
}

// SetHealthy makes a server's health check pass or fail.
func (s *Server) SetHealthy(name string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if x := s.find(name); x != nil {
		x.down = !ok
	}
}

// Puts returns the PUT requests received, as "PATH BODY".
func (s *Server) Puts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.puts...)
}

func (s *Server) find(name string) *server {
	for _, x := range s.servers {
		if x.name == name {
			return x
		}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"code": status, "message": msg})
}

func (x *server) opState() string {
	if x.admin == "maint" || x.down {
		return "down"
	}
	return "up"
}

func (x *server) json() map[string]any {
	return map[string]any{"id": "1", "name": x.name, "address": "10.0.0.11", "port": 80,
		"operational_state": x.opState(), "admin_state": x.admin}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != s.user || p != s.pass {
		w.Header().Set("WWW-Authenticate", `Basic realm="HAProxy Data Plane API"`)
		apiError(w, http.StatusUnauthorized, "authentication failed")
		return
	}
	path := r.URL.Path
	var backend, name string
	var ok bool
	switch {
	case strings.HasPrefix(path, "/v2/services/haproxy/runtime/servers"):
		backend = r.URL.Query().Get("backend")
		name, ok = strings.TrimPrefix(strings.TrimPrefix(path, "/v2/services/haproxy/runtime/servers"), "/"), true
	case strings.HasPrefix(path, "/v3/services/haproxy/runtime/backends/"):
		rest := strings.TrimPrefix(path, "/v3/services/haproxy/runtime/backends/")
		var tail string
		backend, tail, _ = strings.Cut(rest, "/")
		name, ok = strings.CutPrefix(tail, "servers")
		name = strings.TrimPrefix(name, "/")
	case path == "/v2/services/haproxy/stats/native" || path == "/v3/services/haproxy/stats/native":
		s.stats(w, r)
		return
	}
	if !ok {
		apiError(w, http.StatusNotFound, "path "+path+" was not found in this API")
		return
	}
	if backend != s.backend {
		apiError(w, http.StatusNotFound, "backend "+backend+" not found")
		return
	}
	if name == "" {
		var list []map[string]any
		for _, x := range s.servers {
			list = append(list, x.json())
		}
		writeJSON(w, http.StatusOK, list)
		return
	}
	x := s.find(name)
	if x == nil {
		apiError(w, http.StatusNotFound, "server "+name+" not found in backend "+backend)
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, x.json())
	case http.MethodPut:
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			apiError(w, http.StatusBadRequest, "invalid JSON body")
			return
		}
		enc, _ := json.Marshal(body)
		s.puts = append(s.puts, path+"?"+r.URL.RawQuery+" "+string(enc))
		switch st := body["admin_state"]; st {
		case "ready", "drain", "maint":
			if x.admin == "maint" && st != "maint" {
				x.rising = true
			}
			x.admin = st
		default:
			apiError(w, http.StatusBadRequest, "validation failure: admin_state should be one of [ready drain maint]")
			return
		}
		writeJSON(w, http.StatusOK, x.json())
	default:
		apiError(w, http.StatusMethodNotAllowed, "method not allowed")
	}
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var rows []map[string]any
	for _, x := range s.servers {
		if q.Get("parent") != s.backend || (q.Get("name") != "" && q.Get("name") != x.name) {
			continue
		}
		status := "UP"
		switch {
		case x.admin == "maint":
			status = "MAINT"
		case x.rising:
			status = "UP 1/2"
			x.rising = false // the next check decides
		case x.down:
			status = "DOWN"
		case x.admin == "drain":
			status = "DRAIN"
		}
		rows = append(rows, map[string]any{"type": "server", "name": x.name, "backend_name": s.backend,
			"stats": map[string]any{"scur": x.sessions, "qcur": 0, "status": status, "weight": 1, "check_status": "L7OK"}})
	}
	writeJSON(w, http.StatusOK, []map[string]any{{"runtimeAPI": "/var/run/haproxy.sock", "stats": rows}})
}
