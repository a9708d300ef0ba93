package haproxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/osrun/osrun/modules/lbmember/member"
)

// fakeAPI answers the driver's commands with the captured replies of
// testdata: fe01 and fe02 up until a "set server" command, then fe01
// drained and fe02 in maint. It counts the commands it was sent.
type fakeAPI struct {
	state, stat [2]string // up, then after a change

	mu      sync.Mutex
	changed bool
	sent    map[string]int
	// gate, when not nil, holds the answer to "show servers state" until
	// it is closed.
	gate chan struct{}
}

// fakeDriver returns a driver whose connections reach a fakeAPI over
// in-memory pipes (so that, inside a synctest bubble, a read waiting for
// its answer is durably blocked).
func fakeDriver(t *testing.T) (*Driver, *fakeAPI) {
	api := &fakeAPI{
		state: [2]string{readFile(t, "state_up.txt"), readFile(t, "state_drain_maint.txt")},
		stat:  [2]string{readFile(t, "stat_up.txt"), readFile(t, "stat_drain_maint.txt")},
		sent:  map[string]int{},
	}
	d := New(Config{Network: "unix", Address: "fake.sock", Backend: "web"})
	d.dial = func(context.Context) (net.Conn, error) {
		client, server := net.Pipe()
		go api.serve(server)
		return client, nil
	}
	return d, api
}

func (a *fakeAPI) serve(c net.Conn) {
	defer c.Close()
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return
	}
	line = strings.TrimSuffix(line, "\n")
	a.mu.Lock()
	a.sent[line]++
	gate := a.gate
	a.mu.Unlock()
	var reply string
	switch {
	case line == "show servers state web":
		if gate != nil {
			<-gate
		}
		reply = a.pick(a.state)
	case line == "show stat web 4 -1":
		reply = a.pick(a.stat)
	case strings.HasPrefix(line, "set server web/"):
		a.mu.Lock()
		a.changed = true
		a.mu.Unlock()
		reply = "\n"
	case strings.HasPrefix(line, "shutdown sessions server web/"):
		reply = "\n"
	default:
		reply = "Unknown command.\n"
	}
	io.WriteString(c, reply)
}

func (a *fakeAPI) pick(replies [2]string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.changed {
		return replies[1]
	}
	return replies[0]
}

// reads is how many times the backend was read.
func (a *fakeAPI) reads() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sent["show servers state web"]
}

func (a *fakeAPI) hold() chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gate = make(chan struct{})
	return a.gate
}

func wantState(t *testing.T, d *Driver, name string, want member.State) {
	t.Helper()
	st, err := d.Status(t.Context(), name)
	if err != nil || st.State != want {
		t.Fatalf("Status(%s) = %+v, %v; want %s", name, st, err, want)
	}
}

// Hosts polling at once share one read of the backend, and a reading is
// reused for MaxAge after it began.
func TestConcurrentStatusShareOneRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, api := fakeDriver(t)
		gate := api.hold()
		const callers = 50
		var wg sync.WaitGroup
		got := make([]member.Status, callers)
		errs := make([]error, callers)
		for i := range callers {
			wg.Go(func() {
				got[i], errs[i] = d.Status(t.Context(), []string{"fe01", "fe02"}[i%2])
			})
		}
		wg.Add(1)
		var all []member.Status
		var allErr error
		go func() {
			defer wg.Done()
			all, allErr = d.Members(t.Context())
		}()
		synctest.Wait() // every caller waits for the read
		if n := api.reads(); n != 1 {
			t.Fatalf("%d reads in flight for %d callers, want 1", n, callers+1)
		}
		close(gate)
		wg.Wait()
		for i := range callers {
			want := []string{"fe01", "fe02"}[i%2]
			if errs[i] != nil || got[i].Name != want || got[i].State != member.Enabled || !got[i].Healthy {
				t.Errorf("caller %d: %+v, %v; want %s enabled and healthy", i, got[i], errs[i], want)
			}
		}
		if allErr != nil || len(all) != 2 {
			t.Errorf("Members = %+v, %v", all, allErr)
		}

		wantState(t, d, "fe02", member.Enabled)
		if n := api.reads(); n != 1 {
			t.Errorf("a caller within MaxAge read again: %d reads, want 1", n)
		}
		time.Sleep(DefaultMaxAge)
		wantState(t, d, "fe02", member.Enabled)
		if n := api.reads(); n != 2 {
			t.Errorf("%d reads after MaxAge, want 2", n)
		}
		if _, err := d.Status(t.Context(), "fe09"); !errors.Is(err, member.ErrNotFound) {
			t.Errorf("Status(fe09) = %v, want member.ErrNotFound", err)
		}
	})
}

// A state change made through the driver is seen by the next Status: it
// discards the reading, and callers arriving after it do not join a read
// that began before it returned.
func TestSetStateInvalidates(t *testing.T) {
	tests := []struct {
		name   string
		change func(ctx context.Context, d *Driver) error
	}{
		{"SetState", func(ctx context.Context, d *Driver) error { return d.SetState(ctx, "fe01", member.Drained) }},
		{"KillSessions", func(ctx context.Context, d *Driver) error { return d.KillSessions(ctx, "fe01") }},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/cached", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				d, api := fakeDriver(t)
				wantState(t, d, "fe01", member.Enabled)
				if tt.name == "KillSessions" {
					// The fake changes state on "set server" only: this
					// checks that the kill discards the reading.
					api.mu.Lock()
					api.changed = true
					api.mu.Unlock()
				}
				if err := tt.change(t.Context(), d); err != nil {
					t.Fatal(err)
				}
				wantState(t, d, "fe01", member.Drained) // no time has passed
				if n := api.reads(); n != 2 {
					t.Errorf("%d reads, want 2", n)
				}
			})
		})
	}
	t.Run("SetState/in flight", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			d, api := fakeDriver(t)
			gate := api.hold()
			early := make(chan error, 1)
			go func() { _, err := d.Status(t.Context(), "fe01"); early <- err }()
			synctest.Wait() // the early read waits at the gate
			if err := d.SetState(t.Context(), "fe01", member.Drained); err != nil {
				t.Fatal(err)
			}
			type result struct {
				st  member.Status
				err error
			}
			late := make(chan result, 1)
			go func() {
				st, err := d.Status(t.Context(), "fe01")
				late <- result{st, err}
			}()
			synctest.Wait()
			if n := api.reads(); n != 2 {
				t.Errorf("%d reads, want 2: a caller after SetState joined the read that began before it", n)
			}
			close(gate)
			if err := <-early; err != nil {
				t.Error(err)
			}
			if r := <-late; r.err != nil || r.st.State != member.Drained {
				t.Fatalf("Status after SetState = %+v, %v; want drained", r.st, r.err)
			}
			// The early read, older than the change, was not kept.
			wantState(t, d, "fe01", member.Drained)
			if n := api.reads(); n != 2 {
				t.Errorf("%d reads, want 2", n)
			}
		})
	})
}

// A caller that gives up leaves the read to the others; the last one to
// give up cancels it, and the next caller starts a new read.
func TestCancelledCallerLeavesSharedRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, api := fakeDriver(t)
		gate := api.hold()
		ctx1, cancel1 := context.WithCancel(t.Context())
		ctx2, cancel2 := context.WithCancel(t.Context())
		defer cancel2()
		res1, res2 := make(chan error, 1), make(chan error, 1)
		go func() { _, err := d.Status(ctx1, "fe01"); res1 <- err }()
		go func() { _, err := d.Status(ctx2, "fe02"); res2 <- err }()
		synctest.Wait()
		cancel1()
		if err := <-res1; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled caller: %v, want context.Canceled", err)
		}
		synctest.Wait()
		select {
		case err := <-res2:
			t.Fatalf("the other caller returned when the first gave up: %v", err)
		default:
		}
		cancel2()
		if err := <-res2; !errors.Is(err, context.Canceled) {
			t.Errorf("second cancelled caller: %v, want context.Canceled", err)
		}
		if n := api.reads(); n != 1 {
			t.Errorf("%d reads, want 1", n)
		}
		close(gate)
		synctest.Wait() // the abandoned read has ended
		wantState(t, d, "fe01", member.Enabled)
		if n := api.reads(); n != 2 {
			t.Errorf("%d reads, want 2: the caller after the cancellation joined the cancelled read", n)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := d.Status(ctx, "fe01"); !errors.Is(err, context.Canceled) {
			t.Errorf("Status with a cancelled context and a fresh reading: %v, want context.Canceled", err)
		}
	})
}

// With a negative MaxAge only callers that arrive while a read is in
// flight share it.
func TestNegativeMaxAgeKeepsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, api := fakeDriver(t)
		d.cfg.MaxAge = -1
		wantState(t, d, "fe01", member.Enabled)
		wantState(t, d, "fe01", member.Enabled)
		if n := api.reads(); n != 2 {
			t.Errorf("%d reads, want 2", n)
		}
	})
}
