package lb

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
)

// ServedByHeader names the member that answered, on every proxied response.
const ServedByHeader = "X-Served-By"

// HAProxy's own error pages (http_err_msgs in http.c), bodies verbatim.
const (
	body502 = "<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n"
	body503 = "<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"
	body504 = "<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n"
)

// Hop-by-hop headers a proxy does not forward (RFC 9110 7.6.1).
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// ServeHTTP proxies one request to the next member in rotation.
func (l *LB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	l.fe.scur++
	l.fe.stot++
	l.fe.smax = max(l.fe.smax, l.fe.scur)
	l.mu.Unlock()
	status := l.proxy(w, r)
	l.mu.Lock()
	l.fe.scur--
	l.fe.response(status)
	l.mu.Unlock()
}

// proxy returns the status the client got.
func (l *LB) proxy(w http.ResponseWriter, r *http.Request) int {
	retries := 1
	if l.cfg.NoRedispatch {
		retries = 0
	}
	var tried []*member
	for {
		m, sess, ctx := l.pick(r.Context(), tried)
		if m == nil {
			return l.errorPage(w, http.StatusServiceUnavailable, body503)
		}
		tried = append(tried, m)
		resp, err := l.transport.RoundTrip(outgoing(ctx, r, m.cfg.Addr))
		if err != nil {
			refused := isDialError(err)
			l.finish(m, sess, func(c *counters) {
				if refused {
					c.econ++
				} else {
					c.eresp++
				}
			})
			if sess.killed {
				panic(http.ErrAbortHandler)
			}
			if r.Context().Err() != nil {
				l.mu.Lock()
				m.c.cliAbrt++
				l.be.cliAbrt++
				l.mu.Unlock()
				return 0
			}
			if refused && len(tried) <= retries {
				l.mu.Lock()
				m.c.wredis++
				l.be.wredis++
				l.mu.Unlock()
				continue
			}
			if refused {
				return l.errorPage(w, http.StatusServiceUnavailable, body503)
			}
			if isTimeout(err) {
				return l.errorPage(w, http.StatusGatewayTimeout, body504)
			}
			return l.errorPage(w, http.StatusBadGateway, body502)
		}
		h := w.Header()
		for k, v := range resp.Header {
			if !slices.Contains(hopHeaders, k) {
				h[k] = v
			}
		}
		h.Set(ServedByHeader, m.cfg.Name)
		w.WriteHeader(resp.StatusCode)
		n, err := io.Copy(w, resp.Body)
		resp.Body.Close()
		l.finish(m, sess, func(c *counters) {
			c.bout += n
			c.response(resp.StatusCode)
			if err != nil {
				c.srvAbrt++
			}
		})
		if err != nil || sess.killed {
			// The member cut the answer short: the client must see a cut
			// connection, not a complete short body.
			panic(http.ErrAbortHandler)
		}
		return resp.StatusCode
	}
}

// pick chooses the next member in rotation, skipping those already tried,
// and opens a session on it under the same lock, so that a member drained
// after pick returns still counts this request in scur.
func (l *LB) pick(parent context.Context, tried []*member) (*member, *session, context.Context) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.members)
	for i := range n {
		m := l.members[(l.next+i)%n]
		if !m.state().InRotation() || slices.Contains(tried, m) {
			continue
		}
		l.next = (l.next + i + 1) % n
		ctx, cancel := context.WithCancel(parent)
		s := &session{cancel: cancel}
		m.sessions[s] = struct{}{}
		for _, c := range []*counters{&m.c, &l.be} {
			c.scur++
			c.stot++
			c.lbtot++
			c.smax = max(c.smax, c.scur)
		}
		return m, s, ctx
	}
	return nil, nil, nil
}

func (l *LB) finish(m *member, s *session, count func(*counters)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(m.sessions, s)
	s.cancel()
	for _, c := range []*counters{&m.c, &l.be} {
		c.scur--
		count(c)
	}
}

func (l *LB) errorPage(w http.ResponseWriter, status int, body string) int {
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	io.WriteString(w, body)
	l.mu.Lock()
	l.be.response(status)
	l.mu.Unlock()
	return status
}

func outgoing(ctx context.Context, r *http.Request, addr string) *http.Request {
	out := r.Clone(ctx)
	out.RequestURI = ""
	out.URL.Scheme = "http"
	out.URL.Host = addr
	for _, h := range hopHeaders {
		out.Header.Del(h)
	}
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		out.Header.Set("X-Forwarded-For", strings.TrimSpace(ip))
	}
	return out
}

// isDialError tells a connection that never opened (refused, unreachable)
// from one that failed after the request went out: only the first may be
// retried elsewhere without risking a second execution.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
