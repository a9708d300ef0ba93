package appserver_test

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/osrun/osrun/lab/appserver"
)

var client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// get returns the status and body, or the transport error.
func get(t *testing.T, url string) (int, string, error) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func start(t *testing.T, cfg appserver.Config) *appserver.Server {
	t.Helper()
	s, err := appserver.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAnswers(t *testing.T) {
	tests := []struct {
		name       string
		mode       appserver.DownMode
		act        func(s *appserver.Server)
		path       string
		wantStatus int // 0: the connection is refused
		wantBody   string
	}{
		{"app path", appserver.Refuse, func(*appserver.Server) {}, "/", 200, "fe03 11.30.0\n"},
		{"any app path", appserver.Refuse, func(*appserver.Server) {}, "/Sales/Orders.aspx", 200, "fe03 11.30.0\n"},
		{"ping aspx", appserver.Refuse, func(*appserver.Server) {}, appserver.PingDotNet, 200, "OK\n"},
		{"ping jsf", appserver.Refuse, func(*appserver.Server) {}, appserver.PingJava, 200, "OK\n"},
		{"new version", appserver.Refuse, func(s *appserver.Server) { s.SetVersion("11.31.0") }, "/", 200, "fe03 11.31.0\n"},
		{"broken app", appserver.Refuse, func(s *appserver.Server) { s.SetBroken(true) }, "/", 500, ""},
		{"broken still pings", appserver.Refuse, func(s *appserver.Server) { s.SetBroken(true) }, appserver.PingDotNet, 200, "OK\n"},
		{"mended", appserver.Refuse, func(s *appserver.Server) { s.SetBroken(true); s.SetBroken(false) }, "/", 200, "fe03 11.30.0\n"},
		{"down refuses", appserver.Refuse, func(s *appserver.Server) { s.Down() }, "/", 0, ""},
		{"down refuses pings", appserver.Refuse, func(s *appserver.Server) { s.Down() }, appserver.PingJava, 0, ""},
		{"down unavailable", appserver.Unavailable, func(s *appserver.Server) { s.Down() }, "/", 503, ""},
		{"down unavailable ping", appserver.Unavailable, func(s *appserver.Server) { s.Down() }, appserver.PingDotNet, 503, ""},
		{"up again", appserver.Refuse, func(s *appserver.Server) { s.Down(); s.Down(); mustUp(t, s) }, "/", 200, "fe03 11.30.0\n"},
		{"up again unavailable", appserver.Unavailable, func(s *appserver.Server) { s.Down(); mustUp(t, s) }, "/", 200, "fe03 11.30.0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, appserver.Config{Name: "fe03", Version: "11.30.0", DownMode: tt.mode})
			tt.act(s)
			status, body, err := get(t, s.URL()+tt.path)
			if tt.wantStatus == 0 {
				if !errors.Is(err, syscall.ECONNREFUSED) {
					t.Fatalf("GET %s = %d, %v; want connection refused", tt.path, status, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("GET %s: %v", tt.path, err)
			}
			if status != tt.wantStatus || (tt.wantBody != "" && body != tt.wantBody) {
				t.Errorf("GET %s = %d %q, want %d %q", tt.path, status, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func mustUp(t *testing.T, s *appserver.Server) {
	t.Helper()
	if err := s.Up(); err != nil {
		t.Fatal(err)
	}
}

func TestDownCutsRequestsInFlight(t *testing.T) {
	for _, mode := range []appserver.DownMode{appserver.Refuse, appserver.Unavailable} {
		t.Run(map[appserver.DownMode]string{appserver.Refuse: "refuse", appserver.Unavailable: "unavailable"}[mode], func(t *testing.T) {
			s := start(t, appserver.Config{Name: "fe01", Version: "11.30.0", DownMode: mode, Delay: time.Minute})
			entered := make(chan struct{}, 1)
			s.SetOnEnter(func() { entered <- struct{}{} })
			errc := make(chan error, 1)
			go func() {
				_, _, err := get(t, s.URL()+"/")
				errc <- err
			}()
			select {
			case <-entered:
			case <-time.After(15 * time.Second):
				t.Fatal("the request never reached the server")
			}
			s.Down()
			var err error
			select {
			case err = <-errc:
			case <-time.After(15 * time.Second):
				t.Fatal("the request in flight never ended")
			}
			if err == nil {
				t.Fatal("the request in flight when the server went down succeeded")
			}
			// The client can see the cut before the handler counts it.
			deadline := time.Now().Add(15 * time.Second)
			for _, failed := s.Served(); failed != 1; _, failed = s.Served() {
				if time.Now().After(deadline) {
					t.Fatalf("failed = %d, want 1", failed)
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
}

func TestOnChange(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	s := start(t, appserver.Config{Name: "fe02", Version: "11.30.0", OnChange: func(st appserver.State) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, st.String())
	}})
	s.Down()
	s.SetVersion("11.31.0")
	mustUp(t, s)
	s.SetBroken(true)
	s.SetBroken(true) // no change, no call
	s.SetBroken(false)
	want := []string{"fe02 11.30.0 down", "fe02 11.31.0 down", "fe02 11.31.0 up", "fe02 11.31.0 broken", "fe02 11.31.0 up"}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != len(want) {
		t.Fatalf("changes = %q, want %q", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Errorf("change %d = %q, want %q", i, seen[i], want[i])
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	s := start(t, appserver.Config{Name: "fe04", Version: "11.30.0"})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 20 {
				if i == 0 && j%5 == 0 {
					s.Down()
					s.Up()
				}
				s.SetBroken(j%3 == 0)
				get(t, s.URL()+"/")
				s.State()
			}
		})
	}
	wg.Wait()
	mustUp(t, s)
	s.SetBroken(false)
	if status, _, err := get(t, s.URL()+"/"); err != nil || status != 200 {
		t.Fatalf("after the storm: %d, %v", status, err)
	}
}
