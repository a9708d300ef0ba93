package netscalertest

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
	URL string

	group, user, pass string

	mu      sync.Mutex
	members []*sgMember
	actions []string
}

type sgMember struct {
	server   string
	port     int
	disabled bool
	going    bool // disabled with a delay that has not passed
	up       bool // monitor
	conns    int
}

// New starts a fake with servicegroup group of members named
// "server:port", accepting user and pass.
func New(t *testing.T, group, user, pass string, members ...string) *Server {
	s := &Server{group: group, user: user, pass: pass}
	for _, m := range members {
		name, port, _ := strings.Cut(m, ":")
		p, _ := strconv.Atoi(port)
		s.members = append(s.members, &sgMember{server: name, port: p, up: true})
	}
	ts := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(ts.Close)
	s.URL = ts.URL
	return s
}

func (s *Server) find(name string) *sgMember {
	for _, m := range s.members {
		if m.server+":"+strconv.Itoa(m.port) == name {
			return m
		}
	}
	return nil
}

// AddConns changes a member's current connections.
func (s *Server) AddConns(name string, delta int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.find(name); m != nil {
		m.conns = max(0, m.conns+delta)
	}
}

// SetMonitor makes a member's monitor report UP or DOWN.
func (s *Server) SetMonitor(name string, up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.find(name); m != nil {
		m.up = up
	}
}

// ExpireDelays ends every drain delay: those members go OUT OF SERVICE.
func (s *Server) ExpireDelays() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.members {
		m.going = false
	}
}

// Actions returns the action bodies received, as "verb BODY".
func (s *Server) Actions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.actions...)
}

func writeJSON(w http.ResponseWriter, status int, v map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func nitroError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"errorcode": code, "message": msg, "severity": "ERROR"})
}

func done(extra map[string]any) map[string]any {
	out := map[string]any{"errorcode": 0, "message": "Done", "severity": "NONE"}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func (m *sgMember) svrstate() string {
	switch {
	case m.disabled && m.going:
		return "GOING OUT OF SERVICE"
	case m.disabled:
		return "OUT OF SERVICE"
	case m.up:
		return "UP"
	}
	return "DOWN"
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Header.Get("X-NITRO-USER") != s.user || r.Header.Get("X-NITRO-PASS") != s.pass {
		// Assumed code and wording for a refused login.
		nitroError(w, http.StatusUnauthorized, 354, "Invalid username or password")
		return
	}
	p := r.URL.Path
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/nitro/v1/config/servicegroup_servicegroupmember_binding/"):
		if strings.TrimPrefix(p, "/nitro/v1/config/servicegroup_servicegroupmember_binding/") != s.group {
			nitroError(w, http.StatusNotFound, 258, "No such resource [servicegroupName, "+strings.TrimPrefix(p, "/nitro/v1/config/servicegroup_servicegroupmember_binding/")+"]")
			return
		}
		var list []map[string]any
		for _, m := range s.members {
			state := "ENABLED"
			if m.disabled {
				state = "DISABLED"
			}
			list = append(list, map[string]any{"servicegroupname": s.group, "ip": "10.0.0." + strconv.Itoa(10+len(list)),
				"port": m.port, "servername": m.server, "svrstate": m.svrstate(), "state": state, "weight": "1",
				"hashid": "0", "serverid": "0", "customserverid": "None", "dbsttl": "0"})
		}
		writeJSON(w, http.StatusOK, done(map[string]any{"servicegroup_servicegroupmember_binding": list}))
	case r.Method == http.MethodGet && p == "/nitro/v1/stat/servicegroupmember":
		args := map[string]string{}
		for _, kv := range strings.Split(r.URL.Query().Get("args"), ",") {
			k, v, _ := strings.Cut(kv, ":")
			args[k] = v
		}
		m := s.find(args["servername"] + ":" + args["port"])
		if args["servicegroupname"] != s.group || m == nil {
			nitroError(w, http.StatusNotFound, 258, "No such resource [servicegroupmember]")
			return
		}
		c := strconv.Itoa(m.conns)
		writeJSON(w, http.StatusOK, done(map[string]any{"servicegroupmember": []map[string]any{{
			"servicegroupname": s.group, "primaryipaddress": "10.0.0.11", "primaryport": m.port,
			"servicetype": "HTTP", "state": m.svrstate(), "totalrequests": "0", "requestsrate": 0,
			"curclntconnections": c, "cursrvrconnections": c, "svrestablishedconn": c, "curreusepool": "0",
		}}}))
	case r.Method == http.MethodPost && p == "/nitro/v1/config/servicegroup":
		s.action(w, r)
	default:
		nitroError(w, http.StatusMethodNotAllowed, 1092, "Method not allowed")
	}
}

func (s *Server) action(w http.ResponseWriter, r *http.Request) {
	verb := r.URL.Query().Get("action")
	var body struct {
		SG struct {
			Name     string `json:"servicegroupname"`
			Server   string `json:"servername"`
			Port     int    `json:"port"`
			Delay    *int   `json:"delay"`
			Graceful string `json:"graceful"`
		} `json:"servicegroup"`
	}
	var generic map[string]any
	if err := json.NewDecoder(r.Body).Decode(&generic); err != nil {
		nitroError(w, http.StatusBadRequest, 1075, "Invalid JSON input")
		return
	}
	enc, _ := json.Marshal(generic) // map keys sorted: a stable record
	s.actions = append(s.actions, verb+" "+string(enc))
	if err := json.Unmarshal(enc, &body); err != nil {
		nitroError(w, http.StatusBadRequest, 1075, "Invalid JSON input")
		return
	}
	if body.SG.Name != s.group {
		nitroError(w, http.StatusNotFound, 258, "No such resource [servicegroupName, "+body.SG.Name+"]")
		return
	}
	m := s.find(fmt.Sprintf("%s:%d", body.SG.Server, body.SG.Port))
	if m == nil {
		nitroError(w, http.StatusNotFound, 258, "No such resource [serverName, "+body.SG.Server+"]")
		return
	}
	switch verb {
	case "enable":
		m.disabled, m.going = false, false
	case "disable":
		m.disabled = true
		m.going = body.SG.Delay != nil && *body.SG.Delay > 0
	default:
		nitroError(w, http.StatusBadRequest, 1093, "Argument value is not valid [action, "+verb+"]")
		return
	}
	writeJSON(w, http.StatusOK, done(nil))
}
