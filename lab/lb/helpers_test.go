package lb_test

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/osrun/osrun/lab/lb"
)

// backend is a member: its ping answers per healthy, /hold blocks until
// released, every other path answers its name.
type backend struct {
	name    string
	srv     *httptest.Server
	sick    atomic.Bool
	fail    atomic.Int32 // status for application paths when non-zero
	entered chan<- entry

	mu    sync.Mutex
	holds map[string]chan struct{}
}

// entry says a held request reached a member.
type entry struct{ member, id string }

func newBackend(t *testing.T, name string, entered chan<- entry) *backend {
	t.Helper()
	b := &backend{name: name, entered: entered, holds: map[string]chan struct{}{}}
	b.srv = httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(b.srv.Close)
	t.Cleanup(b.releaseAll) // runs before Close
	return b
}

func (b *backend) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/ServiceCenter/"):
		if b.sick.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	case r.URL.Path == "/hold":
		id := r.URL.Query().Get("id")
		b.mu.Lock()
		ch, ok := b.holds[id]
		if !ok {
			ch = make(chan struct{})
			b.holds[id] = ch
		}
		b.mu.Unlock()
		b.entered <- entry{b.name, id}
		select {
		case <-ch:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, b.name+" held\n")
	default:
		if s := b.fail.Load(); s != 0 {
			w.WriteHeader(int(s))
		}
		io.WriteString(w, b.name+"\n")
	}
}

func (b *backend) release(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ch, ok := b.holds[id]; ok {
		close(ch)
		delete(b.holds, id)
	} else {
		ch := make(chan struct{})
		close(ch)
		b.holds[id] = ch
	}
}

func (b *backend) releaseAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, ch := range b.holds {
		select {
		case <-ch:
		default:
			close(ch)
		}
		delete(b.holds, id)
	}
}

func (b *backend) addr() string { return b.srv.Listener.Addr().String() }

// farm is a balancer over backends, with its events on a channel.
type farm struct {
	lb       *lb.LB
	backends map[string]*backend
	events   chan lb.Event
	entered  chan entry // held requests reaching any member
}

func newFarm(t *testing.T, cfg lb.Config, names ...string) *farm {
	t.Helper()
	f := &farm{backends: map[string]*backend{}, events: make(chan lb.Event, 1024), entered: make(chan entry, 64)}
	for _, n := range names {
		b := newBackend(t, n, f.entered)
		f.backends[n] = b
		cfg.Members = append(cfg.Members, lb.MemberConfig{Name: n, Addr: b.addr()})
	}
	if cfg.CheckInterval == 0 {
		cfg.CheckInterval = 10 * time.Millisecond
	}
	cfg.OnEvent = func(e lb.Event) {
		select {
		case f.events <- e:
		default: // a test that does not read events must not block the balancer
		}
	}
	l, err := lb.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	f.lb = l
	// Members start at the lowest "up" health ("UP 1/3"), like HAProxy's;
	// tests start from settled members, after a first check passed.
	eventually(t, "every member's first check", func() bool {
		for _, st := range l.Members() {
			if st.Detail != "UP" {
				return false
			}
		}
		return true
	})
	return f
}

// waitEvent waits for the member to reach a state, reading events.
func (f *farm) waitEvent(t *testing.T, member string, to lb.State) {
	t.Helper()
	if st, _ := f.lb.Member(member); st.State == to {
		return
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-f.events:
			if e.Member == member && e.To == to {
				return
			}
		case <-timeout:
			st, _ := f.lb.Member(member)
			t.Fatalf("%s never reached %s; it is %s (%s)", member, to, st.State, st.Detail)
		}
	}
}

var client = &http.Client{Timeout: 10 * time.Second}

type answer struct {
	status   int
	servedBy string
	body     string
	err      error
}

func get(t *testing.T, url string) answer {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, servedBy: resp.Header.Get(lb.ServedByHeader), body: string(b), err: err}
}

// api sends one line to a runtime API and returns the whole reply.
func api(t *testing.T, network, addr, line string) string {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial the runtime API: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return string(out)
}

// statRows reads "show stat" with a header-driven CSV reader: each row is a
// map from column name to value.
func statRows(t *testing.T, reply string) (header []string, rows []map[string]string) {
	t.Helper()
	body, ok := strings.CutPrefix(reply, "# ")
	if !ok {
		t.Fatalf("show stat reply does not start with the header: %q", reply)
	}
	r := csv.NewReader(strings.NewReader(body))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("show stat CSV: %v", err)
	}
	header = recs[0]
	for _, rec := range recs[1:] {
		if len(rec) != len(header) {
			t.Fatalf("row %q has %d fields, the header %d", rec, len(rec), len(header))
		}
		m := map[string]string{}
		for i, h := range header {
			if _, dup := m[h]; !dup {
				m[h] = rec[i]
			}
		}
		rows = append(rows, m)
	}
	return header, rows
}

// serversState reads "show servers state" by its header.
func serversState(t *testing.T, reply string) (header []string, rows []map[string]string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(reply))
	var lines []string
	for sc.Scan() {
		if sc.Text() != "" {
			lines = append(lines, sc.Text())
		}
	}
	if len(lines) < 2 || lines[0] != "1" || !strings.HasPrefix(lines[1], "# ") {
		t.Fatalf("show servers state reply: %q", reply)
	}
	header = strings.Fields(strings.TrimPrefix(lines[1], "# "))
	for _, ln := range lines[2:] {
		f := strings.Fields(ln)
		if len(f) != len(header) {
			t.Fatalf("row %q has %d fields, the header %d", ln, len(f), len(header))
		}
		m := map[string]string{}
		for i, h := range header {
			m[h] = f[i]
		}
		rows = append(rows, m)
	}
	return header, rows
}

func serverRow(t *testing.T, rows []map[string]string, name string) map[string]string {
	t.Helper()
	for _, r := range rows {
		if r["svname"] == name || r["srv_name"] == name {
			return r
		}
	}
	t.Fatalf("no row for %s", name)
	return nil
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// eventually polls cond for an outside observable with no event of its
// own (a counter), bounded.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// recv bounds a wait on the test's own events.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(15 * time.Second):
		t.Fatalf("no %s after 15s", what)
	}
	panic("unreachable")
}
