package servicecenter

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
)

// The JSON documents of the contract (modules/scfrontend/CONTRACT.md).
type (
	frontendDoc struct {
		Name            string `json:"name"`
		Deployment      string `json:"deployment"` // "enabled" | "disabled"
		PlatformVersion string `json:"platform_version"`
	}
	deployerDoc struct {
		Name    string   `json:"name"`
		Service string   `json:"service"` // "running" | "stopped"
		Threads []Thread `json:"threads"`
	}
	deploymentDoc struct {
		Enabled *bool `json:"enabled"`
	}
	errorDoc struct {
		Error string `json:"error"`
	}
)

// ServeHTTP serves the contract:
//
//	GET /frontends                      {"frontends":[<front-end>...]}
//	GET /frontends/{name}               <front-end>
//	PUT /frontends/{name}/deployment    {"enabled":false} → <front-end>
//	GET /frontends/{name}/deployer      {"name","service","threads":[{"id","status"}]}
//
// Mount it under a prefix with http.StripPrefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="servicecenter", Basic realm="servicecenter"`)
		writeJSON(w, http.StatusUnauthorized, errorDoc{"authentication required"})
		return
	}
	s.routes.ServeHTTP(w, r)
}

func (s *Server) mux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /frontends", s.list)
	m.HandleFunc("GET /frontends/{name}", s.get)
	m.HandleFunc("PUT /frontends/{name}/deployment", s.put)
	m.HandleFunc("GET /frontends/{name}/deployer", s.deployer)
	return m
}

func (s *Server) authorized(r *http.Request) bool {
	if s.opts.Token == "" && s.opts.User == "" {
		return true
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && s.opts.Token != "" {
		return subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.Token)) == 1
	}
	if u, p, ok := r.BasicAuth(); ok && s.opts.User != "" {
		return subtle.ConstantTimeCompare([]byte(u), []byte(s.opts.User)) == 1 &&
			subtle.ConstantTimeCompare([]byte(p), []byte(s.opts.Password)) == 1
	}
	return false
}

func (s *Server) list(w http.ResponseWriter, _ *http.Request) {
	var out struct {
		Frontends []frontendDoc `json:"frontends"`
	}
	out.Frontends = []frontendDoc{}
	for _, f := range s.Frontends() {
		out.Frontends = append(out.Frontends, toDoc(f))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	f, ok := s.Frontend(r.PathValue("name"))
	if !ok {
		writeJSON(w, http.StatusNotFound, errorDoc{errUnknown(r.PathValue("name")).Error()})
		return
	}
	writeJSON(w, http.StatusOK, toDoc(f))
}

func (s *Server) put(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var body deploymentDoc
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Enabled == nil {
		writeJSON(w, http.StatusBadRequest, errorDoc{`body must be {"enabled": true|false}`})
		return
	}
	s.mu.Lock()
	err := s.setDeployment(name, *body.Enabled)
	s.mu.Unlock()
	var unknown unknownError
	if errors.As(err, &unknown) {
		writeJSON(w, http.StatusNotFound, errorDoc{err.Error()})
		return
	}
	s.get(w, r)
}

func (s *Server) deployer(w http.ResponseWriter, r *http.Request) {
	f, ok := s.Frontend(r.PathValue("name"))
	if !ok {
		writeJSON(w, http.StatusNotFound, errorDoc{errUnknown(r.PathValue("name")).Error()})
		return
	}
	doc := deployerDoc{Name: f.Name, Service: "stopped", Threads: []Thread{}}
	if f.DeployerRunning {
		doc.Service = "running"
		doc.Threads = f.Threads
	}
	writeJSON(w, http.StatusOK, doc)
}

func toDoc(f FrontendState) frontendDoc {
	d := frontendDoc{Name: f.Name, Deployment: "disabled", PlatformVersion: f.PlatformVersion}
	if f.DeploymentEnabled {
		d.Deployment = "enabled"
	}
	return d
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// An encoding error means the client went away: nobody to tell.
	_ = json.NewEncoder(w).Encode(v)
}

// Transport returns a RoundTripper that serves requests from this Server in
// process, without a socket. Use it under testing/synctest, where waiting
// on a real connection would stop the fake clock from advancing.
func (s *Server) Transport() http.RoundTripper {
	return roundTripper{s}
}

type roundTripper struct{ h http.Handler }

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	rt.h.ServeHTTP(rec, r)
	if r.Body != nil {
		r.Body.Close()
	}
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}
