package appserver

// SetOnEnter lets tests learn that a request is in flight.
func (s *Server) SetOnEnter(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onEnter = f
}
