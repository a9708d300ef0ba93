package f5test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	URL string

	partition, pool string
	user, pass      string

	mu      sync.Mutex
	members []*poolMember
	tokens  map[string]bool
	logins  int
	patches []string
}

type poolMember struct {
	name      string
	forced    bool // state user-down
	disabled  bool // session user-disabled
	monitorUp bool
	conns     int
}

// New starts a fake with pool /Common/<pool> of the given members
// ("10.0.0.11:80"), accepting user and pass.
func New(t *testing.T, pool, user, pass string, members ...string) *Server {
	s := &Server{partition: "Common", pool: pool, user: user, pass: pass, tokens: map[string]bool{}}
	for _, m := range members {
		s.members = append(s.members, &poolMember{name: m, monitorUp: true})
	}
	ts := httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(ts.Close)
	s.URL = ts.URL
	return s
}

// ExpireTokens invalidates every token, as their timeout would.
func (s *Server) ExpireTokens() { s.mu.Lock(); clear(s.tokens); s.mu.Unlock() }

// Logins counts successful logins.
func (s *Server) Logins() int { s.mu.Lock(); defer s.mu.Unlock(); return s.logins }

// Patches returns the PATCH bodies received.
func (s *Server) Patches() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.patches...)
}

// AddConns changes a member's serverside.curConns.
func (s *Server) AddConns(name string, delta int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.find(name); m != nil {
		m.conns = max(0, m.conns+delta)
	}
}

// SetMonitor makes a member's monitor report up or down.
func (s *Server) SetMonitor(name string, up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.find(name); m != nil {
		m.monitorUp = up
	}
}

func (s *Server) find(name string) *poolMember {
	for _, m := range s.members {
		if m.name == name {
			return m
		}
	}
	return nil
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"code": status, "message": msg, "errorStack": []string{}, "apiError": 3})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path == "/mgmt/shared/authn/login" && r.Method == http.MethodPost {
		s.login(w, r)
		return
	}
	if u, p, ok := r.BasicAuth(); ok {
		if u != s.user || p != s.pass {
			writeError(w, http.StatusUnauthorized, "Authorization failed: user="+u+" resource="+r.URL.Path)
			return
		}
	} else if tok := r.Header.Get("X-F5-Auth-Token"); !s.tokens[tok] {
		// Assumed wording; the documented fact is the 401.
		writeError(w, http.StatusUnauthorized, "X-F5-Auth-Token does not exist.")
		return
	}
	poolPath := "/mgmt/tm/ltm/pool/~" + s.partition + "~"
	rest, ok := strings.CutPrefix(r.URL.Path, poolPath)
	if !ok {
		writeError(w, http.StatusNotFound, "URI path "+r.URL.Path+" not registered.  Please verify URI is supported and wait for /available suffix to be responsive.")
		return
	}
	parts := strings.Split(rest, "/")
	if parts[0] != s.pool {
		writeError(w, http.StatusNotFound, fmt.Sprintf("01020036:3: The requested Pool (/%s/%s) was not found.", s.partition, parts[0]))
		return
	}
	switch {
	case len(parts) == 2 && parts[1] == "members" && r.Method == http.MethodGet:
		var items []any
		for _, m := range s.members {
			items = append(items, s.memberJSON(m))
		}
		writeJSON(w, map[string]any{"kind": "tm:ltm:pool:members:memberscollectionstate",
			"selfLink": "https://localhost" + r.URL.Path + "?ver=15.1.8", "items": items})
	case len(parts) >= 3 && parts[1] == "members":
		m := s.find(strings.TrimPrefix(parts[2], "~"+s.partition+"~"))
		if m == nil {
			host, port, _ := strings.Cut(strings.TrimPrefix(parts[2], "~"+s.partition+"~"), ":")
			writeError(w, http.StatusNotFound, fmt.Sprintf("01020036:3: The requested Pool Member (/%s/%s /%s/%s %s) was not found.",
				s.partition, s.pool, s.partition, host, port))
			return
		}
		switch {
		case len(parts) == 3 && r.Method == http.MethodGet:
			writeJSON(w, s.memberJSON(m))
		case len(parts) == 3 && r.Method == http.MethodPatch:
			s.patch(w, r, m)
		case len(parts) == 4 && parts[3] == "stats" && r.Method == http.MethodGet:
			writeJSON(w, s.statsJSON(m))
		default:
			writeError(w, http.StatusBadRequest, "Method "+r.Method+" not allowed")
		}
	default:
		writeError(w, http.StatusNotFound, "URI path "+r.URL.Path+" not registered.")
	}
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username, Password, LoginProviderName string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Username != s.user || in.Password != s.pass {
		writeError(w, http.StatusUnauthorized, "Authentication failed.")
		return
	}
	b := make([]byte, 13)
	rand.Read(b)
	tok := strings.ToUpper(hex.EncodeToString(b))
	s.tokens[tok] = true
	s.logins++
	writeJSON(w, map[string]any{"username": in.Username, "loginProviderName": in.LoginProviderName,
		"token": map[string]any{"token": tok, "name": tok, "userName": in.Username, "timeout": 1200,
			"kind": "shared:authz:tokens:authtokenitemstate"}})
}

func (s *Server) state(m *poolMember) (state, session string) {
	state, session = "down", "monitor-enabled"
	if m.monitorUp {
		state = "up"
	}
	if m.forced {
		state = "user-down"
	}
	if m.disabled {
		session = "user-disabled"
	}
	return state, session
}

func (s *Server) memberJSON(m *poolMember) map[string]any {
	state, session := s.state(m)
	addr, _, _ := strings.Cut(m.name, ":")
	return map[string]any{"kind": "tm:ltm:pool:members:membersstate", "name": m.name, "partition": s.partition,
		"fullPath": "/" + s.partition + "/" + m.name, "address": addr, "connectionLimit": 0, "dynamicRatio": 1,
		"ephemeral": "false", "fqdn": map[string]string{"autopopulate": "disabled"}, "inheritProfile": "enabled",
		"logging": "disabled", "monitor": "default", "priorityGroup": 0, "rateLimit": "disabled", "ratio": 1,
		"session": session, "state": state}
}

func (s *Server) statsJSON(m *poolMember) map[string]any {
	state, session := s.state(m)
	avail, enabled := "offline", "enabled"
	if m.monitorUp && !m.forced {
		avail = "available"
	}
	if m.disabled {
		enabled = "disabled"
	}
	tp := "~" + s.partition + "~"
	link := "https://localhost/mgmt/tm/ltm/pool/" + tp + s.pool + "/members/" + tp + m.name + "/" + tp + m.name + "/stats"
	return map[string]any{"kind": "tm:ltm:pool:members:membersstats", "selfLink": link + "?ver=15.1.8",
		"entries": map[string]any{link: map[string]any{"nestedStats": map[string]any{"entries": map[string]any{
			"serverside.curConns":      map[string]int{"value": m.conns},
			"curSessions":              map[string]int{"value": m.conns},
			"serverside.totConns":      map[string]int{"value": 0},
			"status.availabilityState": map[string]string{"description": avail},
			"status.enabledState":      map[string]string{"description": enabled},
			"sessionStatus":            map[string]string{"description": session},
			"monitorStatus":            map[string]string{"description": state},
			"nodeName":                 map[string]string{"description": "/" + s.partition + "/" + m.name},
		}}}}}
}

func (s *Server) patch(w http.ResponseWriter, r *http.Request, m *poolMember) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "Found invalid JSON body in the request.")
		return
	}
	enc, _ := json.Marshal(body)
	s.patches = append(s.patches, string(enc))
	state, _ := body["state"].(string)
	session, _ := body["session"].(string)
	if v, ok := body["state"]; ok && state != "user-up" && state != "user-down" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid property value \"state\":%q", fmt.Sprint(v)))
		return
	}
	if v, ok := body["session"]; ok && session != "user-enabled" && session != "user-disabled" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid property value \"session\":%q", fmt.Sprint(v)))
		return
	}
	if state != "" {
		m.forced = state == "user-down"
	}
	if session != "" {
		m.disabled = session == "user-disabled"
	}
	writeJSON(w, s.memberJSON(m))
}
