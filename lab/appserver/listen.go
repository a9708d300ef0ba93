package appserver

import (
	"errors"
	"fmt"
	"net"
)

// StartAt is Start on a given address (host:port) instead of a free port
// on 127.0.0.1. The lab farm gives each front-end its own loopback address
// and port 80, because checks that bypass the balancer (http_check)
// address a front-end by its inventory address alone.
func StartAt(addr string, cfg Config) (*Server, error) {
	if cfg.Name == "" {
		return nil, errors.New("app server: no front-end name")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("app server %s: %w", cfg.Name, err)
	}
	s := &Server{cfg: cfg, addr: ln.Addr().String(), version: cfg.Version}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serveLocked(ln)
	return s, nil
}
