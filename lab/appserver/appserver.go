package appserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DownMode says how a server that is down answers.
type DownMode int

const (
	// Refuse closes the listener: connections are refused, as when the
	// J2EE application server's service is stopped.
	Refuse DownMode = iota
	// Unavailable keeps the listener and answers 503 to everything, as
	// HTTP.sys does while IIS's application pool is stopped.
	Unavailable
)

// Ping paths: Service Center's health pages.
const (
	PingDotNet = "/ServiceCenter/_ping.aspx"
	PingJava   = "/ServiceCenter/_ping.jsf"
)

// Config describes one front-end's application server.
type Config struct {
	// Name is the front-end's name, e.g. "fe03".
	Name    string
	Version string
	// DownMode is how Down shows; Refuse when zero.
	DownMode DownMode
	// Delay is how long each application request works before answering,
	// so that a request can be in flight when the server goes down.
	Delay time.Duration
	// OnChange, when set, is called with the new state after every change
	// (Down, Up, SetBroken, SetVersion), in order, while the server's lock
	// is held: it must be quick and must not call back into the Server.
	OnChange func(State)
}

// State is a snapshot of the server.
type State struct {
	Time    time.Time
	Name    string
	Version string
	Down    bool
	Broken  bool
}

// Healthy reports whether application requests succeed.
func (s State) Healthy() bool { return !s.Down && !s.Broken }

func (s State) String() string {
	word := "up"
	switch {
	case s.Down:
		word = "down"
	case s.Broken:
		word = "broken"
	}
	return fmt.Sprintf("%s %s %s", s.Name, s.Version, word)
}

// Server is one front-end's application server.
type Server struct {
	cfg  Config
	addr string

	mu      sync.Mutex
	version string
	down    bool
	broken  bool
	served  int64 // application requests answered 200
	failed  int64 // application requests answered otherwise
	srv     *http.Server
	served1 chan struct{} // closed when the current http.Server's Serve returns
	// abort is cancelled when the server goes down, cutting requests in
	// flight; replaced by Up.
	abort  context.Context
	cancel context.CancelFunc
	closed bool

	onEnter func() // tests: called when an application request starts its work
}

// Start listens on 127.0.0.1 on a free port and serves. The address stays
// the same across Down and Up.
func Start(cfg Config) (*Server, error) {
	if cfg.Name == "" {
		return nil, errors.New("app server: no front-end name")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("app server %s: %w", cfg.Name, err)
	}
	s := &Server{cfg: cfg, addr: ln.Addr().String(), version: cfg.Version}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serveLocked(ln)
	return s, nil
}

func (s *Server) serveLocked(ln net.Listener) {
	s.abort, s.cancel = context.WithCancel(context.Background())
	srv := &http.Server{Handler: http.HandlerFunc(s.handle), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	s.srv, s.served1 = srv, done
	go func() {
		defer close(done)
		srv.Serve(ln) // returns http.ErrServerClosed on Down and Close
	}()
}

// Name returns the front-end's name.
func (s *Server) Name() string { return s.cfg.Name }

// Addr returns host:port.
func (s *Server) Addr() string { return s.addr }

// URL returns the server's base URL.
func (s *Server) URL() string { return "http://" + s.addr }

// State returns a snapshot.
func (s *Server) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stateLocked()
}

func (s *Server) stateLocked() State {
	return State{Time: time.Now(), Name: s.cfg.Name, Version: s.version, Down: s.down, Broken: s.broken}
}

func (s *Server) changedLocked() {
	if s.cfg.OnChange != nil {
		s.cfg.OnChange(s.stateLocked())
	}
}

// Served returns how many application requests were answered 200, and how
// many were answered with an error.
func (s *Server) Served() (ok, failed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served, s.failed
}

// SetVersion changes the platform version the server reports.
func (s *Server) SetVersion(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.version != v {
		s.version = v
		s.changedLocked()
	}
}

// SetBroken makes application paths answer 500 (or stop doing so).
func (s *Server) SetBroken(broken bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken != broken {
		s.broken = broken
		s.changedLocked()
	}
}

// Down takes the server down: requests in flight are cut and new ones are
// refused (or answered 503 in Unavailable mode). It returns once the
// listener is closed. Down on a down server does nothing.
func (s *Server) Down() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down || s.closed {
		return
	}
	s.down = true
	s.cancel()
	if s.cfg.DownMode == Refuse {
		s.stopLocked()
	}
	s.changedLocked()
}

// stopLocked closes the listener and every connection and waits for Serve
// to return. Handlers still running see their connections gone.
func (s *Server) stopLocked() {
	if s.srv == nil {
		return
	}
	s.srv.Close()
	<-s.served1
	s.srv = nil
}

// Up brings a down server back on the same address.
func (s *Server) Up() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.down || s.closed {
		return nil
	}
	if s.srv == nil {
		ln, err := listenAgain(s.addr)
		if err != nil {
			return fmt.Errorf("app server %s: up: %w", s.cfg.Name, err)
		}
		s.serveLocked(ln)
	} else {
		s.abort, s.cancel = context.WithCancel(context.Background())
	}
	s.down = false
	s.changedLocked()
	return nil
}

// listenAgain rebinds the server's port. Another process may have taken it
// in the meantime on a busy machine; a few quick attempts cover the
// transient cases and anything else is reported.
func listenAgain(addr string) (net.Listener, error) {
	var err error
	for range 20 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln, nil
		}
		time.Sleep(10 * time.Millisecond) // nothing to wait on: the port is the kernel's
	}
	return nil, err
}

// Close stops the server for good.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.cancel()
	s.stopLocked()
	return nil
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down, broken, version, abort := s.down, s.broken, s.version, s.abort
	s.mu.Unlock()
	w.Header().Set("X-Frontend", s.cfg.Name)
	if down {
		// Only in Unavailable mode: in Refuse mode nothing is listening.
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		s.count(false)
		return
	}
	if isPing(r.URL.Path) {
		fmt.Fprintln(w, "OK")
		return
	}
	if s.onEnter != nil {
		s.onEnter()
	}
	if s.cfg.Delay > 0 {
		t := time.NewTimer(s.cfg.Delay)
		select {
		case <-t.C:
		case <-abort.Done():
		case <-r.Context().Done():
		}
		t.Stop()
	}
	if abort.Err() != nil {
		// The service stopped under this request (closing the listener
		// also cancels its context): the client sees its connection cut,
		// not an answer.
		s.count(false)
		panic(http.ErrAbortHandler)
	}
	if r.Context().Err() != nil {
		return // the client left
	}
	w.Header().Set("X-Platform-Version", version)
	if broken {
		http.Error(w, fmt.Sprintf("%s %s: application error: components built for another platform version", s.cfg.Name, version), http.StatusInternalServerError)
		s.count(false)
		return
	}
	fmt.Fprintf(w, "%s %s\n", s.cfg.Name, version)
	s.count(true)
}

func isPing(path string) bool {
	return strings.EqualFold(path, PingDotNet) || strings.EqualFold(path, PingJava)
}

func (s *Server) count(ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok {
		s.served++
	} else {
		s.failed++
	}
}
