package traffic_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/osrun/osrun/lab/traffic"
)

func server(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

func start(t *testing.T, ctx context.Context, cfg traffic.Config) *traffic.Generator {
	t.Helper()
	g, err := traffic.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Stop() })
	return g
}

func TestCaps(t *testing.T) {
	var hits atomic.Int64
	s := server(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set(traffic.ServedByHeader, "fe0"+string(rune('1'+hits.Load()%2)))
	})
	t.Run("max requests", func(t *testing.T) {
		hits.Store(0)
		r := start(t, t.Context(), traffic.Config{URL: s.URL, Clients: 3, Interval: time.Millisecond, MaxRequests: 25}).Wait()
		if r.Sent != 25 || r.OK != 25 || hits.Load() != 25 || r.Stopped != "max requests" || !r.Clean() {
			t.Errorf("report %+v, server saw %d; want exactly 25 ok", r, hits.Load())
		}
		if r.Served["fe01"]+r.Served["fe02"] != 25 {
			t.Errorf("served %v", r.Served)
		}
	})
	t.Run("max duration", func(t *testing.T) {
		r := start(t, t.Context(), traffic.Config{URL: s.URL, Clients: 1, Interval: time.Millisecond, MaxDuration: 50 * time.Millisecond}).Wait()
		if r.Stopped != "max duration" || r.Sent == 0 || r.Failed != 0 {
			t.Errorf("report %+v", r)
		}
	})
	t.Run("rate", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			// 4 clients at 200 requests/s in total: one request every 20ms
			// each, so 1s of fake time sends about 200.
			var n atomic.Int64
			g := start(t, t.Context(), traffic.Config{URL: "http://lab.invalid/", Clients: 4, Rate: 200, MaxDuration: time.Second,
				Client: &http.Client{Transport: roundTripper(func(*http.Request) (*http.Response, error) {
					n.Add(1)
					return &http.Response{StatusCode: 200, Body: http.NoBody, Header: http.Header{}}, nil
				})}})
			r := g.Wait()
			if r.Sent < 196 || r.Sent > 204 || r.Failed != 0 || int64(r.Sent) != n.Load() {
				t.Errorf("sent %d in 1s at 200/s: %+v", r.Sent, r)
			}
		})
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		g := start(t, ctx, traffic.Config{URL: s.URL, Interval: time.Millisecond})
		cancel()
		if r := g.Wait(); r.Stopped != "stopped" || r.Failed != 0 {
			t.Errorf("report %+v", r)
		}
	})
}

func TestStoppingFailsNothing(t *testing.T) {
	entered := make(chan struct{}, 16)
	release := make(chan struct{})
	s := server(t, func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	})
	g := start(t, t.Context(), traffic.Config{URL: s.URL, Clients: 2})
	<-entered
	<-entered
	done := make(chan traffic.Report)
	go func() { done <- g.Stop() }()
	close(release)
	r := <-done
	if r.Sent != 2 || r.OK != 2 || r.Failed != 0 {
		t.Errorf("stopping with 2 requests in flight: %+v, want both ok", r)
	}
}

func TestFailuresRecorded(t *testing.T) {
	var n atomic.Int64
	s := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(traffic.ServedByHeader, "fe02")
		if n.Add(1)%2 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	var seen atomic.Int64
	r := start(t, t.Context(), traffic.Config{URL: s.URL, Clients: 1, Interval: time.Millisecond, MaxRequests: 20, MaxFailures: 3,
		OnFailure: func(traffic.Failure) { seen.Add(1) }}).Wait()
	if r.Sent != 20 || r.Failed != 10 || len(r.Failures) != 3 || seen.Load() != 10 || r.Clean() {
		t.Fatalf("report %+v (hook saw %d)", r, seen.Load())
	}
	if f := r.Failures[0]; f.Status != 503 || f.ServedBy != "fe02" {
		t.Errorf("failure %+v", f)
	}
	out := r.String()
	for _, want := range []string{"NOT CLEAN", "20 requests sent, 10 ok, 10 failed", "HTTP 503 from fe02", "and 7 more failed requests", "fe02=20"} {
		if !strings.Contains(out, want) {
			t.Errorf("String() lacks %q:\n%s", want, out)
		}
	}
	// Nobody listening: transport errors are failures too.
	s.Close()
	r = start(t, t.Context(), traffic.Config{URL: s.URL, MaxRequests: 2}).Wait()
	if r.Failed != 2 || r.Failures[0].Err == "" {
		t.Errorf("against a closed server: %+v", r)
	}
}

func TestStartValidates(t *testing.T) {
	for _, url := range []string{"", "://bad"} {
		if _, err := traffic.Start(t.Context(), traffic.Config{URL: url}); err == nil {
			t.Errorf("Start(%q) succeeded", url)
		}
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
