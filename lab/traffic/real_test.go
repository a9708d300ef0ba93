package traffic_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/osrun/osrun/lab/appserver"
	"github.com/osrun/osrun/lab/lb"
	"github.com/osrun/osrun/lab/traffic"
	"github.com/osrun/osrun/modules/lbmember/haproxy"
	"github.com/osrun/osrun/modules/lbmember/member"
)

// realFarm is the farm behind a real HAProxy, driven by osrun's haproxy
// driver and watched by the monitor's sampling, as the lab does with
// --lab-lb haproxy.
func realFarm(t *testing.T, mode appserver.DownMode, names ...string) (*farm, *haproxy.Driver) {
	t.Helper()
	f := &farm{apps: map[string]*appserver.Server{}, mon: traffic.NewMonitor(0)}
	cfg := lb.Config{CheckInterval: 50 * time.Millisecond, Rise: 2, Fall: 3}
	for _, n := range names {
		s, err := appserver.Start(appserver.Config{Name: n, Version: "11.30.0", DownMode: mode, Delay: time.Millisecond, OnChange: f.mon.AppState})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		f.apps[n] = s
		cfg.Members = append(cfg.Members, lb.MemberConfig{Name: n, Addr: s.Addr(), CheckPath: appserver.PingJava})
	}
	r, err := lb.StartReal(t.Context(), cfg)
	if errors.Is(err, lb.ErrNoHAProxy) {
		if os.Getenv("CI") == "true" {
			t.Fatal("haproxy is not installed; CI must install the Debian haproxy package")
		}
		t.Skip("SKIPPING THE REAL-HAPROXY FARM: haproxy is not installed (apt-get install haproxy)")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	d := haproxy.New(haproxy.Config{Network: "unix", Address: r.SocketPath(), Backend: r.Backend()})
	eventually(t, "every member in rotation", func() bool {
		all, err := d.Members(t.Context())
		n := 0
		for _, m := range all {
			if m.InRotation() {
				n++
			}
		}
		return err == nil && n == len(names)
	})
	ctx, cancel := context.WithCancel(context.Background())
	sampled := make(chan error, 1)
	go func() {
		sampled <- f.mon.Sample(ctx, 5*time.Millisecond, func(ctx context.Context) ([]traffic.InRotation, error) {
			all, err := d.Members(ctx)
			var out []traffic.InRotation
			for _, m := range all {
				out = append(out, traffic.InRotation{Member: m.Name, In: m.InRotation()})
			}
			return out, err
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-sampled; !errors.Is(err, context.Canceled) {
			t.Errorf("sampling: %v", err)
		}
	})
	g, err := traffic.Start(t.Context(), traffic.Config{URL: r.URL() + "/", Clients: 4, Interval: 2 * time.Millisecond,
		MaxRequests: 20000, MaxDuration: time.Minute, Monitor: f.mon})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Stop() })
	f.load = g
	return f, d
}

func TestRealHAProxyDrainedUpgradeFailsNothing(t *testing.T) {
	f, d := realFarm(t, appserver.Refuse, "fe01", "fe02")
	f.servedBy(t, "fe01", 20)
	for _, name := range []string{"fe01", "fe02"} {
		if err := d.SetState(t.Context(), name, member.Drained); err != nil {
			t.Fatal(err)
		}
		eventually(t, name+" drained", func() bool {
			st, err := d.Status(t.Context(), name)
			return err == nil && st.Sessions == 0
		})
		app := f.apps[name]
		app.Down()
		f.sent(t, 50)
		app.SetVersion("11.31.0")
		if err := app.Up(); err != nil {
			t.Fatal(err)
		}
		eventually(t, name+" healthy", func() bool {
			st, err := d.Status(t.Context(), name)
			return err == nil && st.Healthy
		})
		if err := d.SetState(t.Context(), name, member.Enabled); err != nil {
			t.Fatal(err)
		}
		f.servedBy(t, name, 20)
	}
	r := f.load.Stop()
	if !r.Clean() || r.Served["fe01"] == 0 || r.Served["fe02"] == 0 {
		t.Errorf("drained upgrade through a real HAProxy:\n%s", r)
	}
	t.Logf("\n%s", r)
}

func TestRealHAProxyDownInRotationFails(t *testing.T) {
	f, _ := realFarm(t, appserver.Unavailable, "fe01", "fe02")
	f.servedBy(t, "fe01", 20)
	f.apps["fe01"].Down()
	f.until(t, "a failed request", func(r traffic.Report) bool { return r.Failed > 0 })
	f.until(t, "the violation seen", func(r traffic.Report) bool { return len(r.Violations) > 0 })
	r := f.load.Stop()
	if r.Clean() || r.Failures[0].ServedBy != "fe01" || r.Violations[0].Member != "fe01" {
		t.Errorf("report:\n%s", r)
	}
}
