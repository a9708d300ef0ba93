package winrm

import (
	"net"
	"sync"
)

// tracker remembers the TCP connections a Conn's HTTP client opened: the
// library keeps its http.Transport private, so closing them is the only
// way Close can release idle keep-alive connections.
type tracker struct {
	dial  func(network, addr string) (net.Conn, error)
	mu    sync.Mutex
	conns map[*trackedConn]struct{}
	shut  bool
}

func newTracker(dial func(network, addr string) (net.Conn, error)) *tracker {
	return &tracker{dial: dial, conns: map[*trackedConn]struct{}{}}
}

func (t *tracker) Dial(network, addr string) (net.Conn, error) {
	c, err := t.dial(network, addr)
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, t: t}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.shut {
		c.Close()
		return nil, net.ErrClosed
	}
	t.conns[tc] = struct{}{}
	return tc, nil
}

// closeAll closes every open connection and refuses new ones.
func (t *tracker) closeAll() {
	t.mu.Lock()
	conns := t.conns
	t.conns = map[*trackedConn]struct{}{}
	t.shut = true
	t.mu.Unlock()
	for c := range conns {
		c.Conn.Close()
	}
}

type trackedConn struct {
	net.Conn
	t    *tracker
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.t.mu.Lock()
		delete(c.t.conns, c)
		c.t.mu.Unlock()
	})
	return c.Conn.Close()
}
