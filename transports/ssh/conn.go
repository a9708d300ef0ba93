package ssh

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/transports"
)

// Conn is one SSH connection to a host (through its jump hosts), with a
// new session per command. It is meant for sequential use by one
// goroutine, as transports.Conn says.
type Conn struct {
	host *inventory.Host
	opts Options

	mu      sync.Mutex
	clients []*ssh.Client // jump hosts first, the host last
	dead    chan struct{} // closed when the host connection ends
	closed  bool
}

var _ transports.Conn = (*Conn)(nil)

// Shell reports that commands are POSIX shell command lines.
func (c *Conn) Shell() string { return "sh" }

// install makes clients the live connection and starts its watchers.
func (c *Conn) install(clients []*ssh.Client) {
	dead := make(chan struct{})
	c.mu.Lock()
	if c.closed {
		// Close ran while we were reconnecting.
		c.mu.Unlock()
		for i := len(clients) - 1; i >= 0; i-- {
			clients[i].Close()
		}
		return
	}
	c.clients, c.dead = clients, dead
	c.mu.Unlock()
	last := clients[len(clients)-1]
	go func() {
		last.Wait()
		close(dead)
	}()
	interval := c.host.SSH.Keepalive
	if interval == 0 {
		interval = DefaultKeepalive
	}
	if interval > 0 {
		go keepalive(last, dead, interval)
	}
}

// keepalive pings the server so idle NAT and firewall state survives long
// steps, and closes a connection whose server stopped answering, which
// turns a hang into ErrConnectionLost.
func keepalive(cl *ssh.Client, dead <-chan struct{}, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-dead:
			return
		case <-t.C:
		}
		noAnswer := time.AfterFunc(3*interval, func() { cl.Close() })
		_, _, err := cl.SendRequest("keepalive@openssh.com", true, nil)
		noAnswer.Stop()
		if err != nil {
			cl.Close()
			return
		}
	}
}

// Close closes the connection; later calls do nothing.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	var first error
	for i := len(c.clients) - 1; i >= 0; i-- {
		if err := c.clients[i].Close(); err != nil && first == nil && !errors.Is(err, io.EOF) {
			first = err
		}
	}
	if first != nil {
		return fmt.Errorf("ssh %s: close: %w", c.host.Name, first)
	}
	return nil
}

// session opens a session, redialling once if the connection dropped since
// the last command. Reconnecting here is safe: no command has started.
func (c *Conn) session(ctx context.Context) (*ssh.Session, error) {
	for attempt := 0; ; attempt++ {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, fmt.Errorf("ssh %s: connection closed", c.host.Name)
		}
		cl := c.clients[len(c.clients)-1]
		c.mu.Unlock()
		s, err := cl.NewSession()
		if err == nil {
			return s, nil
		}
		// The server refusing a session is an OpenChannelError; any other
		// failure means the connection itself is broken.
		var refused *ssh.OpenChannelError
		if errors.As(err, &refused) || attempt > 0 {
			return nil, fmt.Errorf("ssh %s: open session: %w", c.host.Name, err)
		}
		c.mu.Lock()
		for i := len(c.clients) - 1; i >= 0; i-- {
			c.clients[i].Close()
		}
		c.mu.Unlock()
		if err := c.dial(ctx); err != nil {
			return nil, fmt.Errorf("reconnect after the connection dropped: %w", err)
		}
	}
}

func nonce() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
