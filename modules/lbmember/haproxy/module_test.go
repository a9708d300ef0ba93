package haproxy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/lbmember"
	"github.com/osrun/osrun/modules/lbmember/member"
)

// moduleEnv wires the lb_member module, as osrun assembles it, to a lab.
func moduleEnv(l *lab, host string, progress chan<- string) *modules.Env {
	zone := &inventory.Zone{Name: "default", LoadBalancer: "lb1"}
	inv := &inventory.Inventory{
		Zones: []*inventory.Zone{zone},
		LoadBalancers: map[string]*inventory.Endpoint{"lb1": {Name: "lb1", Driver: "haproxy",
			Settings: map[string]cty.Value{"socket": cty.StringVal(l.sock), "backend": cty.StringVal("web")}}},
	}
	var h *inventory.Host
	for _, n := range l.names {
		x := &inventory.Host{Name: n, Zone: "default"}
		inv.Hosts = append(inv.Hosts, x)
		zone.Hosts = append(zone.Hosts, x)
		if n == host {
			h = x
		}
	}
	return &modules.Env{Host: h, Inventory: inv, Progress: func(msg string) {
		if progress == nil {
			return
		}
		select { // a slow reader must not stall the drain it watches
		case progress <- msg:
		default:
		}
	}}
}

func moduleAction(t *testing.T, kv ...string) modules.Action {
	t.Helper()
	def := lbmember.Definition(lbmember.Options{PollInterval: 20 * time.Millisecond})
	args := modules.Args{}
	for _, p := range def.Params {
		args[p.Name] = p.Default
		if p.Default == cty.NilVal {
			args[p.Name] = cty.NullVal(p.Type)
		}
	}
	args["min_in_rotation"] = cty.NumberIntVal(1)
	for i := 0; i < len(kv); i += 2 {
		args[kv[i]] = cty.StringVal(kv[i+1])
	}
	a, err := def.New(args)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The whole cycle of one front-end against a real HAProxy: drain with a
// live session that ends during the drain, disable, enable again.
func TestModuleCycleOnRealHAProxy(t *testing.T) {
	l := startLab(t, "fe01", "fe02")
	release := l.hold(t, "fe01")

	check, err := moduleAction(t, "state", "disabled").Check(t.Context(), moduleEnv(l, "fe01", nil))
	if err != nil || !check.Changed || check.Msg != "would drain fe01 (1 session) and then disable it" {
		t.Fatalf("Check = %+v, %v", check, err)
	}

	progress := make(chan string, 1000)
	done := make(chan error, 1)
	var res modules.Result
	go func() {
		var err error
		res, err = moduleAction(t, "state", "disabled", "drain_timeout", "20s").Apply(t.Context(), moduleEnv(l, "fe01", progress))
		done <- err
	}()
	// The drain waits on the live session; ending it lets the drain finish.
	select {
	case msg := <-progress:
		if !strings.Contains(msg, "draining fe01: 1 session left") {
			t.Errorf("progress %q", msg)
		}
	case err := <-done:
		t.Fatalf("Apply returned before the session ended: %v", err)
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if !res.Changed || res.Output["state"].AsString() != "disabled" {
		t.Errorf("Apply = %+v", res)
	}

	again, err := moduleAction(t, "state", "disabled").Apply(t.Context(), moduleEnv(l, "fe01", nil))
	if err != nil || again.Changed {
		t.Errorf("second Apply = %+v, %v; want unchanged", again, err)
	}

	// fe01 is out, so fe02 is the last one in rotation.
	_, err = moduleAction(t, "state", "drained").Apply(t.Context(), moduleEnv(l, "fe02", nil))
	if err == nil || !strings.Contains(err.Error(), "refusing to take fe02 out of haproxy backend web") {
		t.Errorf("draining the last member: %v", err)
	}

	res, err = moduleAction(t, "state", "enabled", "health_timeout", "10s").Apply(t.Context(), moduleEnv(l, "fe01", nil))
	if err != nil || !res.Changed {
		t.Fatalf("enable = %+v, %v", res, err)
	}
	st, err := haproxyDriver(l).Status(t.Context(), "fe01")
	if err != nil || !st.InRotation() {
		t.Errorf("after enabling, fe01 = %+v, %v", st, err)
	}
}

// Sticky clients never leave: after drain_timeout "force" cuts them.
func TestModuleForcedDrainOnRealHAProxy(t *testing.T) {
	l := startLab(t, "fe01", "fe02")
	l.hold(t, "fe01") // released by the lab's cleanup
	a := moduleAction(t, "state", "disabled", "drain_timeout", "200ms", "on_drain_timeout", "fail")
	_, err := a.Apply(t.Context(), moduleEnv(l, "fe01", nil))
	if err == nil || !strings.Contains(err.Error(), "fe01 still has 1 session after drain_timeout 200ms; it stays drained") {
		t.Fatalf("Apply with fail = %v", err)
	}
	if st, _ := haproxyDriver(l).Status(t.Context(), "fe01"); st.State != member.Drained {
		t.Errorf("after a failed drain fe01 is %s", st.State)
	}
	a = moduleAction(t, "state", "disabled", "drain_timeout", "200ms", "on_drain_timeout", "force")
	res, err := a.Apply(t.Context(), moduleEnv(l, "fe01", nil))
	if err != nil || !strings.Contains(res.Msg, "cut 1 session") || res.Output["state"].AsString() != "disabled" {
		t.Fatalf("Apply with force = %+v, %v", res, err)
	}
}

func haproxyDriver(l *lab) lbmember.Driver {
	d, err := lbmember.Builtin().Open(&inventory.Endpoint{Name: "lb1", Driver: "haproxy",
		Settings: map[string]cty.Value{"socket": cty.StringVal(l.sock), "backend": cty.StringVal("web")}})
	if err != nil {
		panic(err)
	}
	return d
}
