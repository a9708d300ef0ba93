package traffic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ServedByHeader is the response header naming the member that answered
// (the lab balancer sets it).
const ServedByHeader = "X-Served-By"

// Config bounds and shapes the load. Zero values take the defaults.
type Config struct {
	// URL is requested by every client: the balancer's address plus a path.
	URL string
	// Clients is the number of concurrent clients; 4 when zero.
	Clients int
	// Interval is each client's pause between requests; 20ms when zero.
	Interval time.Duration
	// Rate, when set, is the target of requests per second for all clients
	// together and replaces Interval (each client pauses Clients/Rate).
	// Slow answers lower the rate actually reached.
	Rate float64
	// MaxRequests caps the requests sent; 100000 when zero.
	MaxRequests int
	// MaxDuration caps how long load is sent; 30 minutes when zero.
	MaxDuration time.Duration
	// Timeout bounds one request; 10s when zero.
	Timeout time.Duration
	// MaxFailures caps the failures kept in the report (all are counted);
	// 100 when zero.
	MaxFailures int
	// Monitor, when set, contributes its violations to the report.
	Monitor *Monitor
	// OnFailure, when set, is called for every failed request, from the
	// clients' goroutines.
	OnFailure func(Failure)
	// Client sends the requests; a keep-alive client with Timeout when nil.
	Client *http.Client
}

// Failure is one failed request.
type Failure struct {
	Time time.Time
	// Status is the HTTP status, 0 when no answer arrived.
	Status int
	// Err is the transport error, if any.
	Err string
	// ServedBy is the member that answered, when the balancer said.
	ServedBy string
}

func (f Failure) String() string {
	who := f.ServedBy
	if who == "" {
		who = "?"
	}
	what := fmt.Sprintf("HTTP %d", f.Status)
	if f.Err != "" {
		what = f.Err
	}
	return fmt.Sprintf("%s %s from %s", f.Time.Format("15:04:05.000"), what, who)
}

// Generator is running load.
type Generator struct {
	cfg    Config
	client *http.Client
	start  time.Time
	cancel context.CancelFunc
	done   chan struct{}
	slots  atomic.Int64

	mu      sync.Mutex
	sent    int
	ok      int
	failed  int
	fails   []Failure
	served  map[string]int
	stopped string
	end     time.Time
}

// Start validates cfg and starts the clients. Load stops when ctx is done,
// MaxDuration passes, MaxRequests were sent, or Stop is called.
func Start(ctx context.Context, cfg Config) (*Generator, error) {
	if cfg.URL == "" {
		return nil, errors.New("traffic: no URL")
	}
	if cfg.Clients <= 0 {
		cfg.Clients = 4
	}
	if cfg.Rate > 0 {
		cfg.Interval = time.Duration(float64(time.Second) * float64(cfg.Clients) / cfg.Rate)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 20 * time.Millisecond
	}
	if cfg.MaxRequests <= 0 {
		cfg.MaxRequests = 100000
	}
	if cfg.MaxDuration <= 0 {
		cfg.MaxDuration = 30 * time.Minute
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 100
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{Timeout: cfg.Timeout, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Clients}}
	}
	if _, err := http.NewRequest(http.MethodGet, cfg.URL, nil); err != nil {
		return nil, fmt.Errorf("traffic: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.MaxDuration)
	g := &Generator{cfg: cfg, client: client, start: time.Now(), cancel: cancel, done: make(chan struct{}), served: map[string]int{}}
	var wg sync.WaitGroup
	for range cfg.Clients {
		wg.Go(func() { g.client1(ctx) })
	}
	go func() {
		wg.Wait()
		g.mu.Lock()
		g.end = time.Now()
		switch {
		case g.stopped != "":
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			g.stopped = "max duration"
		case ctx.Err() != nil:
			g.stopped = "stopped"
		default:
			g.stopped = "max requests"
		}
		g.mu.Unlock()
		cancel()
		if cfg.Client == nil {
			client.CloseIdleConnections()
		}
		close(g.done)
	}()
	return g, nil
}

// client1 is one client: request, pause, repeat while slots remain.
func (g *Generator) client1(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if g.slots.Add(1) > int64(g.cfg.MaxRequests) {
			return
		}
		g.one()
		t.Reset(g.cfg.Interval)
	}
}

// one sends a request. It does not use the generator's context: stopping
// the load must not fail the requests already sent.
func (g *Generator) one() {
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.Timeout)
	defer cancel()
	f := Failure{Time: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.cfg.URL, nil)
	if err == nil {
		var resp *http.Response
		if resp, err = g.client.Do(req); err == nil {
			_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			f.Status, f.ServedBy = resp.StatusCode, resp.Header.Get(ServedByHeader)
		}
	}
	if err != nil {
		f.Err = err.Error()
	}
	ok := err == nil && f.Status >= 200 && f.Status < 400
	g.mu.Lock()
	g.sent++
	if f.ServedBy != "" {
		g.served[f.ServedBy]++
	}
	if ok {
		g.ok++
	} else {
		g.failed++
		if len(g.fails) < g.cfg.MaxFailures {
			g.fails = append(g.fails, f)
		}
	}
	g.mu.Unlock()
	if !ok && g.cfg.OnFailure != nil {
		g.cfg.OnFailure(f)
	}
}

// Snapshot reports the load so far.
func (g *Generator) Snapshot() Report {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := Report{Sent: g.sent, OK: g.ok, Failed: g.failed, Failures: append([]Failure(nil), g.fails...),
		Served: map[string]int{}, Stopped: g.stopped, Elapsed: time.Since(g.start)}
	if !g.end.IsZero() {
		r.Elapsed = g.end.Sub(g.start)
	}
	for k, v := range g.served {
		r.Served[k] = v
	}
	if g.cfg.Monitor != nil {
		r.Violations, r.DroppedViolations = g.cfg.Monitor.Violations()
	}
	return r
}

// Done is closed once every client has stopped.
func (g *Generator) Done() <-chan struct{} { return g.done }

// Wait waits until the load stops on its own (a cap or the context) and
// reports it.
func (g *Generator) Wait() Report {
	<-g.done
	return g.Snapshot()
}

// Stop stops the load, waits for the requests in flight and reports.
func (g *Generator) Stop() Report {
	g.mu.Lock()
	if g.stopped == "" && g.end.IsZero() {
		g.stopped = "stopped"
	}
	g.mu.Unlock()
	g.cancel()
	return g.Wait()
}
