package preflight_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/lab/lb"
	"github.com/osrun/osrun/modules/installer"
	"github.com/osrun/osrun/runner"
	"github.com/osrun/osrun/runner/preflight"
	"github.com/osrun/osrun/transports"
)

func problemKeys(ps []preflight.Problem) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, key(p))
	}
	return out
}

func TestRunOptions(t *testing.T) {
	tests := []struct {
		name      string
		change    func(t *testing.T, tf *testFarm)
		wantHosts []string
		wantZones []string
		problems  []string
		notes     []string
	}{
		{
			name:      "limit to one front-end",
			change:    func(_ *testing.T, tf *testFarm) { tf.opts.Limit = []string{"fe04"} },
			wantHosts: []string{"fe04"}, wantZones: []string{"porto"},
		},
		{
			name: "limit keeps the whole zone's capacity",
			change: func(t *testing.T, tf *testFarm) {
				tf.opts.Limit = []string{"fe04"}
				tf.backends["fe06"].sick.Store(true)
				tf.backends["fe07"].sick.Store(true)
				waitDown(t, tf, "fe06", "fe07")
			},
			wantHosts: []string{"fe04"}, wantZones: []string{"porto"},
			problems: []string{"capacity porto loaded set below minimum capacity"},
		},
		{
			name:      "a higher minimum capacity",
			change:    func(_ *testing.T, tf *testFarm) { tf.opts.MinCapacity = 0.75 },
			wantHosts: names(hostZones), wantZones: []string{"lisbon", "porto"},
			problems: []string{"capacity lisbon loaded set below minimum capacity", "capacity porto loaded set below minimum capacity"},
		},
		{
			name: "a drained front-end is noted, not a problem",
			change: func(t *testing.T, tf *testFarm) {
				if err := tf.lb.SetAdmin("fe05", lb.Drain); err != nil {
					t.Fatal(err)
				}
			},
			wantHosts: names(hostZones), wantZones: []string{"lisbon", "porto"},
			notes: []string{"load_balancer fe05 out of rotation before the run"},
		},
		{
			name: "a disabled front-end is not checked, so not healthy",
			change: func(t *testing.T, tf *testFarm) {
				if err := tf.lb.SetAdmin("fe05", lb.Maint); err != nil {
					t.Fatal(err)
				}
			},
			wantHosts: names(hostZones), wantZones: []string{"lisbon", "porto"},
			problems: []string{"load_balancer fe05 unhealthy"},
		},
		{
			name: "a resumed run may find front-ends out of rotation",
			change: func(t *testing.T, tf *testFarm) {
				tf.opts.Resuming = true
				for _, m := range []string{"fe06", "fe07"} { // porto's loaded set, drained and disabled
					if err := tf.lb.SetAdmin(m, lb.Maint); err != nil {
						t.Fatal(err)
					}
				}
			},
			wantHosts: names(hostZones), wantZones: []string{"lisbon", "porto"},
			notes: []string{"load_balancer fe06 out of rotation, as the interrupted run may have left it",
				"load_balancer fe07 out of rotation, as the interrupted run may have left it"},
		},
		{
			name: "a resumed run still needs a front-end in rotation",
			change: func(t *testing.T, tf *testFarm) {
				tf.opts.Resuming = true
				for _, m := range []string{"fe04", "fe05", "fe06", "fe07"} {
					if err := tf.lb.SetAdmin(m, lb.Maint); err != nil {
						t.Fatal(err)
					}
				}
			},
			wantHosts: names(hostZones), wantZones: []string{"lisbon", "porto"},
			problems: []string{"capacity porto no front-end in rotation"},
			notes: []string{"load_balancer fe04 out of rotation, as the interrupted run may have left it",
				"load_balancer fe05 out of rotation, as the interrupted run may have left it",
				"load_balancer fe06 out of rotation, as the interrupted run may have left it",
				"load_balancer fe07 out of rotation, as the interrupted run may have left it"},
		},
		{
			name: "split broken after loading",
			change: func(_ *testing.T, tf *testFarm) {
				tf.inv.Split.Loaded = slices.DeleteFunc(slices.Clone(tf.inv.Split.Loaded), func(h *inventory.Host) bool { return h.Name == "fe03" })
				tf.inv.Split.Updating = slices.DeleteFunc(slices.Clone(tf.inv.Split.Updating), func(h *inventory.Host) bool { return h.Zone == "porto" })
			},
			wantHosts: names(hostZones), wantZones: []string{"lisbon", "porto"},
			// fe03 in no set leaves lisbon 1 loaded of 4 in rotation.
			problems: []string{"split fe03 split invalid", "split fe04 split invalid", "split fe05 split invalid",
				"split porto split invalid", "capacity lisbon loaded set below minimum capacity"},
		},
		{
			name: "manual Service Center",
			change: func(_ *testing.T, tf *testFarm) {
				tf.inv.ServiceCenters["main"].Driver = "manual"
			},
			wantHosts: names(hostZones), wantZones: []string{"lisbon", "porto"},
			notes: []string{"service_center lisbon, porto service_center main: manual driver, not checked"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tf := newTestFarm(t, faults{})
			tt.change(t, tf)
			r, err := preflight.Run(t.Context(), tf.pb, tf.inv, tf.opts)
			if err != nil {
				t.Fatal(err)
			}
			var hosts, zones []string
			for _, h := range r.Hosts {
				hosts = append(hosts, h.Name)
			}
			for _, z := range r.Zones {
				zones = append(zones, z.Name)
			}
			if !slices.Equal(hosts, tt.wantHosts) || !slices.Equal(zones, tt.wantZones) {
				t.Errorf("hosts %v zones %v, want %v %v", hosts, zones, tt.wantHosts, tt.wantZones)
			}
			if got := problemKeys(r.Problems); !slices.Equal(got, nonNil(tt.problems)) {
				t.Errorf("problems %q, want %q", got, tt.problems)
			}
			if got := problemKeys(r.Notes); !slices.Equal(got, nonNil(tt.notes)) {
				t.Errorf("notes %q, want %q", got, tt.notes)
			}
		})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func names(hz []struct{ name, zone string }) []string {
	var out []string
	for _, h := range hz {
		out = append(out, h.name)
	}
	return out
}

// waitDown waits until the balancer's checks took the named members down.
func waitDown(t *testing.T, tf *testFarm, members ...string) {
	t.Helper()
	for _, m := range members {
		select {
		case <-tf.down[m]:
		case <-t.Context().Done():
			t.Fatalf("%s never went down", m)
		}
	}
}

func TestRunRefuses(t *testing.T) {
	inv := &inventory.Inventory{}
	for _, tt := range []struct {
		name string
		inv  *inventory.Inventory
		opts preflight.Options
		want string
	}{
		{"no inventory", nil, preflight.Options{}, "preflight: no inventory"},
		{"unknown limit", inv, preflight.Options{Limit: []string{"fe99"}}, `preflight: limit: the inventory has no host or group named "fe99"`},
		{"capacity above 1", inv, preflight.Options{MinCapacity: 1.5}, "preflight: min capacity 1.5 is not between 0 and 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := preflight.Run(t.Context(), nil, tt.inv, tt.opts)
			if err == nil || err.Error() != tt.want || r != nil {
				t.Errorf("Run = %v, %v; want %q", r, err, tt.want)
			}
		})
	}
}

// fakeConn answers the probe and nothing else.
type fakeConn struct{ closed *atomic.Int32 }

func (c fakeConn) Run(_ context.Context, cmd *transports.Cmd) error {
	if cmd.Stdout != nil {
		io.WriteString(cmd.Stdout, "osrun-preflight\n")
	}
	return nil
}
func (fakeConn) Upload(context.Context, transports.Upload) error { return fmt.Errorf("no uploads") }
func (fakeConn) Shell() string                                   { return "powershell" }
func (c fakeConn) Close() error                                  { c.closed.Add(1); return nil }

const smallFarm = `
zone "a" {}
host "h1" {
  address = "10.0.0.1"
  transport = "local"
  stack = "dotnet"
  zone = zone.a
  roles = ["controller", "frontend"]
}
host "h2" {
  address = "10.0.0.2"
  transport = "local"
  stack = "dotnet"
  zone = zone.a
}
host "h3" {
  address = "10.0.0.3"
  transport = "local"
  stack = "dotnet"
  zone = zone.a
}
host "h4" {
  address = "10.0.0.4"
  transport = "local"
  stack = "dotnet"
  zone = zone.a
}
host "h5" {
  address = "10.0.0.5"
  transport = "local"
  stack = "dotnet"
  zone = zone.a
}
`

// At most Forks hosts are dialled at once, every connection is closed,
// and the version reader gets the connection the probe ran on.
func TestRunForks(t *testing.T) {
	inv, diags := loadInventory(hclparse.NewParser(), "inventory.hcl", smallFarm)
	if diags != nil {
		t.Fatal(diags.Error())
	}
	synctest.Test(t, func(t *testing.T) {
		var inDial, closed atomic.Int32
		release := make(chan struct{})
		dial := runner.DialerFunc(func(ctx context.Context, h *inventory.Host) (transports.Conn, error) {
			inDial.Add(1)
			defer inDial.Add(-1)
			<-release
			return fakeConn{&closed}, nil
		})
		var mu sync.Mutex
		var read []string
		opts := preflight.Options{
			Dialers: map[string]runner.Dialer{"local": dial},
			Forks:   2,
			ReadVersion: func(ctx context.Context, c transports.Conn, w installer.Where) (installer.Installed, error) {
				mu.Lock()
				defer mu.Unlock()
				read = append(read, c.Shell())
				return installer.Installed{Version: "11.30.0", Raw: "11.30.0"}, nil
			},
		}
		var r *preflight.Report
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			r, err = preflight.Run(t.Context(), nil, inv, opts)
		}()
		synctest.Wait()
		if n := inDial.Load(); n != 2 {
			t.Errorf("%d dials under way, want Forks = 2", n)
		}
		close(release)
		<-done
		if err != nil {
			t.Fatal(err)
		}
		if closed.Load() != 5 || len(read) != 5 {
			t.Errorf("%d connections closed, %d versions read; want 5 and 5", closed.Load(), len(read))
		}
		for _, h := range r.Hosts {
			if !h.Reachable || h.Version != "11.30.0" {
				t.Errorf("host %+v", h)
			}
		}
		// No balancer in the inventory: the zone cannot be drained.
		if got := problemKeys(r.Problems); !slices.Equal(got, []string{"load_balancer a no load balancer"}) {
			t.Errorf("problems %q", got)
		}
	})
}

// A cancelled preflight says so, and returns what it found until then.
func TestRunCancelled(t *testing.T) {
	inv, diags := loadInventory(hclparse.NewParser(), "inventory.hcl", smallFarm)
	if diags != nil {
		t.Fatal(diags.Error())
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r, err := preflight.Run(ctx, nil, inv, preflight.Options{Dialers: map[string]runner.Dialer{}})
	if err == nil || !strings.Contains(err.Error(), "context canceled") || r == nil {
		t.Fatalf("Run = %v, %v", r, err)
	}
}
