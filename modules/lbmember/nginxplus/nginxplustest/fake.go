package nginxplustest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	URL string // the api location, e.g. http://127.0.0.1:port/api

	upstream string
	mu       sync.Mutex
	servers  []*upstreamServer
	user     string
	pass     string
	readOnly bool
	patches  []string
}

type upstreamServer struct {
	ID       int    `json:"id"`
	Server   string `json:"server"`
	Weight   int    `json:"weight"`
	MaxConns int    `json:"max_conns"`
	MaxFails int    `json:"max_fails"`
	FailTO   string `json:"fail_timeout"`
	SlowSt   string `json:"slow_start"`
	Route    string `json:"route"`
	Backup   bool   `json:"backup"`
	Down     bool   `json:"down"`
	Drain    bool   `json:"drain,omitempty"`

	active    int
	unhealthy bool
	checking  bool // left "down": the next health check decides
}

// New starts a fake with one upstream of the given servers ("10.0.0.11:80").
func New(t *testing.T, upstream string, servers ...string) *Server {
	s := &Server{upstream: upstream}
	for i, name := range servers {
		s.servers = append(s.servers, &upstreamServer{ID: i, Server: name, Weight: 1, MaxFails: 1,
			FailTO: "10s", SlowSt: "0s"})
	}
	ts := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(ts.Close)
	s.URL = ts.URL + "/api"
	return s
}

// RequireAuth guards the write methods with Basic auth, like
// limit_except GET { auth_basic …; }.
func (s *Server) RequireAuth(user, pass string) {
	s.mu.Lock()
	s.user, s.pass = user, pass
	s.mu.Unlock()
}

// ReadOnly answers writes as "api;" without write=on does.
func (s *Server) ReadOnly() { s.mu.Lock(); s.readOnly = true; s.mu.Unlock() }

// AddActive changes a server's active connection count.
func (s *Server) AddActive(server string, delta int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.find(server); u != nil {
		u.active = max(0, u.active+delta)
	}
}

// SetHealthy makes a server's health check pass or fail.
func (s *Server) SetHealthy(server string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.find(server); u != nil {
		u.unhealthy = !ok
	}
}

// Patches returns the PATCH bodies received, as "ID BODY".
func (s *Server) Patches() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.patches...)
}

func (s *Server) find(server string) *upstreamServer {
	for _, u := range s.servers {
		if u.Server == server {
			return u
		}
	}
	return nil
}

func writeError(w http.ResponseWriter, status int, code, text string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"error":      map[string]any{"status": status, "text": text, "code": code},
		"request_id": "5f4c1ad0e0b2a3c4d5e6f708192a3b4c",
		"href":       "https://nginx.org/en/docs/http/ngx_http_api_module.html",
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

const unauthorizedPage = "<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n" +
	"<center><h1>401 Authorization Required</h1></center>\r\n<hr><center>nginx/1.25.5</center>\r\n</body>\r\n</html>\r\n"

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method != http.MethodGet && s.user != "" {
		if u, p, ok := r.BasicAuth(); !ok || u != s.user || p != s.pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="nginx api"`)
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, unauthorizedPage)
			return
		}
	}
	if r.URL.Path == "/api/" {
		writeJSON(w, []int{1, 2, 3, 4, 5, 6, 7, 8, 9})
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/9/http/upstreams/")
	if !ok {
		writeError(w, http.StatusNotFound, "PathNotFound", "path not found")
		return
	}
	parts := strings.Split(rest, "/")
	if parts[0] != s.upstream {
		writeError(w, http.StatusNotFound, "UpstreamNotFound", "upstream not found")
		return
	}
	switch {
	case len(parts) == 1 && r.Method == http.MethodGet:
		writeJSON(w, s.state())
	case len(parts) == 2 && parts[1] == "servers" && r.Method == http.MethodGet:
		writeJSON(w, s.servers)
	case len(parts) == 3 && parts[1] == "servers" && r.Method == http.MethodPatch:
		s.patch(w, r, parts[2])
	case r.Method != http.MethodGet && len(parts) <= 3:
		writeError(w, http.StatusMethodNotAllowed, "MethodNotSupported", "method not supported")
	default:
		writeError(w, http.StatusNotFound, "PathNotFound", "path not found")
	}
}

func (s *Server) state() map[string]any {
	var peers []map[string]any
	for _, u := range s.servers {
		state := "up"
		switch {
		case u.Down:
			state = "down"
		case u.checking:
			state = "checking"
			u.checking = false // the next read sees the check's verdict
		case u.unhealthy:
			state = "unhealthy"
		case u.Drain:
			state = "draining"
		}
		peers = append(peers, map[string]any{"id": u.ID, "server": u.Server, "name": u.Server,
			"backup": u.Backup, "weight": u.Weight, "state": state, "active": u.active,
			"requests": 0, "responses": map[string]int{"total": 0}, "sent": 0, "received": 0,
			"fails": 0, "unavail": 0, "health_checks": map[string]any{"checks": 0, "fails": 0, "unhealthy": 0},
			"downtime": 0})
	}
	return map[string]any{"peers": peers, "keepalive": 0, "zombies": 0, "zone": s.upstream}
}

func (s *Server) patch(w http.ResponseWriter, r *http.Request, idText string) {
	if s.readOnly {
		writeError(w, http.StatusMethodNotAllowed, "MethodDisabled", "method disabled")
		return
	}
	id, err := strconv.Atoi(idText)
	var u *upstreamServer
	for _, x := range s.servers {
		if err == nil && x.ID == id {
			u = x
		}
	}
	if u == nil {
		writeError(w, http.StatusNotFound, "UpstreamServerNotFound", "server not found")
		return
	}
	var body map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "UpstreamConfFormatError", "invalid JSON body")
		return
	}
	enc, _ := json.Marshal(body)
	s.patches = append(s.patches, idText+" "+string(enc))
	for k, v := range body {
		var b bool
		switch k {
		case "down", "drain":
			if json.Unmarshal(v, &b) != nil {
				writeError(w, http.StatusBadRequest, "UpstreamConfFormatError", fmt.Sprintf("invalid \"%s\" value", k))
				return
			}
		default:
			writeError(w, http.StatusBadRequest, "UpstreamConfFormatError", fmt.Sprintf("unknown parameter \"%s\"", k))
			return
		}
	}
	for k, v := range body {
		var b bool
		json.Unmarshal(v, &b)
		switch k {
		case "down":
			if u.Down && !b {
				u.checking = true
			}
			u.Down = b
		case "drain":
			u.Drain = b
		}
	}
	writeJSON(w, u)
}
