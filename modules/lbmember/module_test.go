package lbmember_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/lbmember"
	"github.com/osrun/osrun/modules/lbmember/lbtest"
	"github.com/osrun/osrun/modules/lbmember/member"
	"github.com/osrun/osrun/modules/moduletest"
)

// farm is a zone of three front-ends behind one fake balancer.
type farm struct {
	fake     *lbtest.Fake
	opened   int
	def      *modules.Definition
	inv      *inventory.Inventory
	mu       sync.Mutex
	progress []string
}

func newFarm(t *testing.T) *farm {
	t.Helper()
	f := &farm{fake: lbtest.NewFake("web", "fe01", "fe02", "fe03")}
	reg := lbmember.NewRegistry()
	if err := reg.Register("fake", func(ep *inventory.Endpoint) (lbmember.Driver, error) {
		f.mu.Lock()
		f.opened++
		f.mu.Unlock()
		return f.fake, nil
	}); err != nil {
		t.Fatal(err)
	}
	f.def = lbmember.Definition(lbmember.Options{Drivers: reg})
	zone := &inventory.Zone{Name: "default", LoadBalancer: "lb1"}
	f.inv = &inventory.Inventory{
		Zones:         []*inventory.Zone{zone},
		LoadBalancers: map[string]*inventory.Endpoint{"lb1": {Name: "lb1", Driver: "fake"}},
	}
	for _, n := range []string{"fe01", "fe02", "fe03"} {
		h := &inventory.Host{Name: n, Zone: "default"}
		if n == "fe03" {
			h.Member = "fe03" // explicit, the others default to the host name
		}
		f.inv.Hosts = append(f.inv.Hosts, h)
		zone.Hosts = append(zone.Hosts, h)
	}
	return f
}

func (f *farm) env(host string) *modules.Env {
	var h *inventory.Host
	for _, x := range f.inv.Hosts {
		if x.Name == host {
			h = x
		}
	}
	return &modules.Env{Host: h, Inventory: f.inv, Progress: func(msg string) {
		f.mu.Lock()
		f.progress = append(f.progress, msg)
		f.mu.Unlock()
	}}
}

// action builds an Action the way the loader would: defaults, then overrides.
func (f *farm) action(t *testing.T, kv ...any) modules.Action {
	t.Helper()
	args := map[string]cty.Value{}
	for i := 0; i < len(kv); i += 2 {
		switch v := kv[i+1].(type) {
		case string:
			args[kv[i].(string)] = cty.StringVal(v)
		case int:
			args[kv[i].(string)] = cty.NumberIntVal(int64(v))
		}
	}
	a, err := f.def.New(moduletest.Args(t, f.def, args))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

func TestDefinition(t *testing.T) {
	def := lbmember.Definition(lbmember.Options{})
	if def.Name != "lb_member" || def.DefaultOn != modules.OnControl {
		t.Errorf("Name %q DefaultOn %q", def.Name, def.DefaultOn)
	}
	if _, err := modules.NewRegistry(def); err != nil {
		t.Fatal(err)
	}
	p, ok := def.Param("state")
	if !ok || !p.Required || len(p.OneOf) != 3 {
		t.Errorf("state param: %+v", p)
	}
}

func TestNewRejectsBadArguments(t *testing.T) {
	tests := []struct {
		name string
		kv   []any
		want string
	}{
		{"bad drain timeout", []any{"state", "disabled", "drain_timeout", "soon"}, "drain_timeout"},
		{"bad health timeout", []any{"state", "enabled", "health_timeout", "5"}, "health_timeout"},
		{"zero poll", []any{"state", "enabled", "poll_interval", "0s"}, "poll_interval"},
		{"negative min", []any{"state", "enabled", "min_in_rotation", -1}, "min_in_rotation"},
		{"bad state", []any{"state", "gone"}, "state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFarm(t)
			args := modules.Args{}
			for _, p := range f.def.Params {
				args[p.Name] = p.Default
				if p.Default == cty.NilVal {
					args[p.Name] = cty.NullVal(p.Type)
				}
			}
			for i := 0; i < len(tt.kv); i += 2 {
				switch v := tt.kv[i+1].(type) {
				case string:
					args[tt.kv[i].(string)] = cty.StringVal(v)
				case int:
					args[tt.kv[i].(string)] = cty.NumberIntVal(int64(v))
				}
			}
			_, err := f.def.New(args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %v, want it to mention %s", err, tt.want)
			}
		})
	}
}

func TestCheckPredicts(t *testing.T) {
	tests := []struct {
		name     string
		state    member.State
		sessions int
		healthy  bool
		want     string
		changed  bool
		msg      string
	}{
		{"enabled stays", member.Enabled, 4, true, "enabled", false, "fe03 is already enabled (4 sessions)"},
		{"enabled but down", member.Enabled, 0, false, "enabled", false, "would wait for its health check"},
		{"enable a disabled one", member.Disabled, 0, false, "enabled", true, "would enable fe03 (now disabled)"},
		{"drain", member.Enabled, 12, true, "drained", true, "would drain fe03 (12 sessions)"},
		{"drained stays", member.Drained, 1, true, "drained", false, "fe03 is already drained (1 session)"},
		{"disable from enabled", member.Enabled, 12, true, "disabled", true, "would drain fe03 (12 sessions) and then disable it"},
		{"disable from drained", member.Drained, 3, true, "disabled", true, "would disable fe03 (drained, 3 sessions left)"},
		{"disabled stays", member.Disabled, 0, false, "disabled", false, "fe03 is already disabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFarm(t)
			f.fake.Put("fe03", tt.state, tt.sessions, tt.healthy)
			res, err := f.action(t, "state", tt.want).Check(t.Context(), f.env("fe03"))
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if res.Changed != tt.changed || !strings.Contains(res.Msg, tt.msg) {
				t.Errorf("Check = changed %v %q, want changed %v and %q", res.Changed, res.Msg, tt.changed, tt.msg)
			}
			if got := res.Output["state"].AsString(); got != string(tt.state) {
				t.Errorf("output state %q, want the current %q", got, tt.state)
			}
			if calls := f.fake.Calls(); len(calls) != 0 {
				t.Errorf("Check changed the balancer: %v", calls)
			}
		})
	}
}

func TestApplyReachesStateAndIsIdempotent(t *testing.T) {
	tests := []struct {
		name      string
		from      member.State
		sessions  int
		want      member.State
		wantCalls []string
	}{
		{"drain", member.Enabled, 5, member.Drained, []string{"SetState fe03 drained"}},
		{"disable drains first", member.Enabled, 5, member.Disabled, []string{"SetState fe03 drained", "SetState fe03 disabled"}},
		{"disable a drained one", member.Drained, 2, member.Disabled, []string{"SetState fe03 disabled"}},
		{"enable", member.Disabled, 0, member.Enabled, []string{"SetState fe03 enabled"}},
		{"undrain", member.Drained, 0, member.Enabled, []string{"SetState fe03 enabled"}},
		{"drained from disabled", member.Disabled, 0, member.Drained, []string{"SetState fe03 drained"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFarm(t)
				f.fake.Put("fe03", tt.from, tt.sessions, tt.from != member.Disabled)
				f.fake.SetDrainPerRead(1)
				f.fake.SetRiseReads(3)
				a := f.action(t, "state", string(tt.want))
				res, err := a.Apply(t.Context(), f.env("fe03"))
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				if !res.Changed || res.Output["state"].AsString() != string(tt.want) {
					t.Errorf("Apply = %+v, want changed to %s", res, tt.want)
				}
				if got := f.fake.Calls(); !slices.Equal(got, tt.wantCalls) {
					t.Errorf("calls %q, want %q", got, tt.wantCalls)
				}
				res, err = a.Apply(t.Context(), f.env("fe03"))
				if err != nil || res.Changed {
					t.Errorf("second Apply = %+v, %v; want unchanged", res, err)
				}
				if got := f.fake.Calls(); len(got) != len(tt.wantCalls) {
					t.Errorf("second Apply called the balancer: %q", got[len(tt.wantCalls):])
				}
			})
		})
	}
}

func TestDisableShowsSessionsGoingDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFarm(t)
		f.fake.Put("fe03", member.Enabled, 4, true)
		f.fake.SetDrainPerRead(1)
		res, err := f.action(t, "state", "disabled", "poll_interval", "1s").Apply(t.Context(), f.env("fe03"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Output["sessions"].AsBigFloat().String() != "0" {
			t.Errorf("sessions output %v", res.Output["sessions"])
		}
		var counts []string
		for _, p := range f.progress {
			counts = append(counts, strings.Fields(p)[2])
		}
		if !slices.IsSortedFunc(counts, func(a, b string) int { return strings.Compare(b, a) }) || len(counts) == 0 {
			t.Errorf("progress %q: want session counts going down", f.progress)
		}
	})
}

func TestDrainTimeout(t *testing.T) {
	tests := []struct {
		mode      string
		wantErr   string
		wantState member.State
		wantCalls []string
	}{
		{"fail", `fe03 still has 3 sessions after drain_timeout 1m0s; it stays drained`, member.Drained,
			[]string{"SetState fe03 drained"}},
		{"force", "", member.Disabled,
			[]string{"SetState fe03 drained", "SetState fe03 disabled", "KillSessions fe03"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFarm(t)
				f.fake.Put("fe03", member.Enabled, 3, true) // sticky clients: never leave
				a := f.action(t, "state", "disabled", "drain_timeout", "1m", "on_drain_timeout", tt.mode)
				res, err := a.Apply(t.Context(), f.env("fe03"))
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("Apply error = %v, want %q", err, tt.wantErr)
					}
				} else if err != nil {
					t.Fatal(err)
				} else if !strings.Contains(res.Msg, "cut 3 sessions") {
					t.Errorf("Msg %q", res.Msg)
				}
				st, _ := f.fake.Status(t.Context(), "fe03")
				if st.State != tt.wantState {
					t.Errorf("state %s, want %s", st.State, tt.wantState)
				}
				if got := f.fake.Calls(); !slices.Equal(got, tt.wantCalls) {
					t.Errorf("calls %q, want %q", got, tt.wantCalls)
				}
			})
		})
	}
}

func TestMinInRotation(t *testing.T) {
	tests := []struct {
		name    string
		others  map[string]member.State // fe01, fe02
		healthy bool                    // of the others
		min     int
		want    member.State
		refuse  bool
	}{
		{"two others in rotation", map[string]member.State{"fe01": member.Enabled, "fe02": member.Enabled}, true, 1, member.Disabled, false},
		{"last one", map[string]member.State{"fe01": member.Disabled, "fe02": member.Drained}, true, 1, member.Disabled, true},
		{"last one drain", map[string]member.State{"fe01": member.Disabled, "fe02": member.Drained}, true, 1, member.Drained, true},
		{"others unhealthy", map[string]member.State{"fe01": member.Enabled, "fe02": member.Enabled}, false, 1, member.Disabled, true},
		{"min 2 with one other", map[string]member.State{"fe01": member.Enabled, "fe02": member.Disabled}, true, 2, member.Disabled, true},
		{"guard off", map[string]member.State{"fe01": member.Disabled, "fe02": member.Disabled}, true, 0, member.Disabled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFarm(t)
				for n, st := range tt.others {
					f.fake.Put(n, st, 0, tt.healthy && st != member.Disabled)
				}
				a := f.action(t, "state", string(tt.want), "min_in_rotation", tt.min)
				_, checkErr := a.Check(t.Context(), f.env("fe03"))
				_, applyErr := a.Apply(t.Context(), f.env("fe03"))
				for what, err := range map[string]error{"Check": checkErr, "Apply": applyErr} {
					if !tt.refuse {
						if err != nil {
							t.Errorf("%s: %v", what, err)
						}
						continue
					}
					if err == nil || !strings.Contains(err.Error(), "refusing to take fe03 out of fake pool web") ||
						!strings.Contains(err.Error(), fmt.Sprintf("min_in_rotation is %d", tt.min)) {
						t.Errorf("%s error = %v, want a refusal naming the pool and member", what, err)
					}
				}
				if tt.refuse && len(f.fake.Calls()) != 0 {
					t.Errorf("refused, but called %q", f.fake.Calls())
				}
			})
		})
	}
}

// Two hosts leaving a two-member pool at once: exactly one may go.
func TestMinInRotationConcurrent(t *testing.T) {
	f := newFarm(t)
	f.fake.Put("fe01", member.Disabled, 0, false)
	a := f.action(t, "state", "drained")
	errs := make(chan error, 2)
	for _, h := range []string{"fe02", "fe03"} {
		go func() {
			_, err := a.Apply(t.Context(), f.env(h))
			errs <- err
		}()
	}
	refused := 0
	for range 2 {
		if err := <-errs; err != nil {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("%d of 2 concurrent drains refused, want exactly 1 (calls %q)", refused, f.fake.Calls())
	}
}

func TestEnableHealthTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFarm(t)
		f.fake.Put("fe03", member.Disabled, 0, false)
		f.fake.SetHealthy("fe03", false)
		_, err := f.action(t, "state", "enabled", "health_timeout", "30s").Apply(t.Context(), f.env("fe03"))
		if err == nil || !strings.Contains(err.Error(), "did not report it up within 30s (last seen DOWN)") {
			t.Errorf("Apply error = %v", err)
		}
	})
}

func TestErrorsNameWhatFailed(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *farm)
		want  string
	}{
		{"no balancer for zone", func(f *farm) { f.inv.Zones[0].LoadBalancer = "" }, "zone default of host fe03 has no load_balancer"},
		{"unknown driver", func(f *farm) { f.inv.LoadBalancers["lb1"].Driver = "bigip" }, `load balancer lb1: unknown driver "bigip"`},
		{"driver error", func(f *farm) { f.fake.FailNext("Status", errors.New("connection refused")) }, "load balancer lb1: connection refused"},
		{"unknown member", func(f *farm) { f.inv.Hosts[2].Member = "fe99" }, "load balancer lb1: fake pool web: fe99: no such member"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFarm(t)
			tt.setup(f)
			_, err := f.action(t, "state", "drained").Apply(t.Context(), f.env("fe03"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestBuiltinDrivers(t *testing.T) {
	got := lbmember.Builtin().Names()
	for _, want := range []string{"command", "f5", "haproxy", "haproxy_dataplane", "netscaler", "nginx_plus"} {
		if !slices.Contains(got, want) {
			t.Errorf("Builtin() = %v, want %s", got, want)
		}
	}
	if err := lbmember.Builtin().Register("haproxy", func(*inventory.Endpoint) (lbmember.Driver, error) { return nil, nil }); err == nil {
		t.Error("registering haproxy twice succeeded")
	}
}

// A balancer that cannot cut sessions: force still disables, and says so.
func TestForceWithoutKiller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFarm(t)
		f.fake.Put("fe03", member.Enabled, 2, true)
		f.fake.FailNext("KillSessions", fmt.Errorf("fake: %w", member.ErrUnsupported))
		a := f.action(t, "state", "disabled", "drain_timeout", "10s", "on_drain_timeout", "force")
		res, err := a.Apply(t.Context(), f.env("fe03"))
		if err != nil {
			t.Fatal(err)
		}
		if want := "fe03 disabled after drain_timeout 10s with 2 sessions still open (fake pool web cannot cut sessions)"; res.Msg != want {
			t.Errorf("Msg %q, want %q", res.Msg, want)
		}
		f.fake.Put("fe02", member.Enabled, 2, true)
		f.fake.FailNext("KillSessions", errors.New("socket closed"))
		_, err = a.Apply(t.Context(), f.env("fe02"))
		if err == nil || !strings.Contains(err.Error(), "load balancer lb1: socket closed") {
			t.Errorf("a failed kill: %v", err)
		}
	})
}

func TestDriverOpenedOncePerRun(t *testing.T) {
	f := newFarm(t)
	a, b := f.action(t, "state", "drained"), f.action(t, "state", "enabled")
	for _, h := range []string{"fe01", "fe02", "fe03"} {
		if _, err := a.Check(t.Context(), f.env(h)); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Apply(t.Context(), f.env(h)); err != nil {
			t.Fatal(err)
		}
	}
	if f.opened != 1 {
		t.Errorf("the driver was opened %d times, want once", f.opened)
	}
}

// The task's own timeout (a context deadline) ends the wait with a message
// that says where the drain stood.
func TestContextEndsTheWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFarm(t)
		f.fake.Put("fe03", member.Enabled, 3, true)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		_, err := f.action(t, "state", "disabled").Apply(ctx, f.env("fe03"))
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "stopped waiting for fe03 to drain (3 sessions left; it stays drained)") {
			t.Errorf("Apply = %v", err)
		}
		f.fake.Put("fe02", member.Disabled, 0, false)
		f.fake.SetHealthy("fe02", false)
		ctx, cancel = context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		_, err = f.action(t, "state", "enabled").Apply(ctx, f.env("fe02"))
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "stopped waiting for the health check of fe02 (last seen DOWN)") {
			t.Errorf("Apply = %v", err)
		}
	})
}

func TestEffectsForThePlanVerifier(t *testing.T) {
	def := lbmember.Definition(lbmember.Options{})
	for state, want := range map[string]modules.Rotation{
		"enabled": modules.RotationIn, "drained": modules.RotationOut, "disabled": modules.RotationOut,
	} {
		got := def.Effects(modules.Args{"state": cty.StringVal(state)})
		if got.Rotation != want || got.Disruptive || got.Upgrades {
			t.Errorf("state %s: effect %+v, want rotation %q only", state, got, want)
		}
	}
}
