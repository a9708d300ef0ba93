package windowsnlb_test

import (
	"slices"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/lbmember"
	"github.com/osrun/osrun/modules/lbmember/windowsnlb"
	"github.com/osrun/osrun/modules/lbmember/windowsnlb/windowsnlbtest"
	"github.com/osrun/osrun/modules/moduletest"
)

// TestModuleOverNLB runs lb_member tasks against the simulated cluster:
// going to disabled drains the node through NLB (the module's own drain
// wait sees no sessions, Stop-NlbClusterNode -Drain waits), a second
// Apply changes nothing, and enabling waits for Converged.
func TestModuleOverNLB(t *testing.T) {
	l := newLab(t)
	l.nlb.SetMinute(time.Hour)
	reg := lbmember.NewRegistry()
	if err := reg.Register("windows_nlb", func(ep *inventory.Endpoint) (lbmember.Driver, error) { return windowsnlb.FromEndpoint(ep) }); err != nil {
		t.Fatal(err)
	}
	def := lbmember.Definition(lbmember.Options{Drivers: reg})
	zone := &inventory.Zone{Name: "default", LoadBalancer: "nlb"}
	inv := &inventory.Inventory{Zones: []*inventory.Zone{zone},
		LoadBalancers: map[string]*inventory.Endpoint{"nlb": {Name: "nlb", Driver: "windows_nlb", Settings: l.settings}}}
	for _, n := range nodes {
		h := &inventory.Host{Name: n, Zone: "default"}
		inv.Hosts, zone.Hosts = append(inv.Hosts, h), append(zone.Hosts, h)
	}
	env := &modules.Env{Host: inv.Hosts[0], Inventory: inv, Progress: func(string) {}}
	apply := func(state string) (modules.Result, error) {
		a, err := def.New(moduletest.Args(t, def, map[string]cty.Value{"state": cty.StringVal(state), "poll_interval": cty.StringVal("10ms")}))
		if err != nil {
			t.Fatal(err)
		}
		return a.Apply(t.Context(), env)
	}

	release := hold(t, l, "fe01")
	type result struct {
		res modules.Result
		err error
	}
	done := make(chan result, 1)
	go func() { res, err := apply("disabled"); done <- result{res, err} }()
	// The module drains, sees no session count and disables: the cmdlet
	// blocks in NLB's drain until the client leaves.
	if err := l.nlb.WaitCommand(t.Context(), "Stop-NlbClusterNode fe01 -Drain -Timeout 10"); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		t.Fatalf("Apply(disabled) returned while fe01 still had a connection: %+v, %v", r.res, r.err)
	default:
	}
	release()
	r := <-done
	if r.err != nil || !r.res.Changed || r.res.Msg != "fe01 enabled -> disabled (0 sessions)" {
		t.Fatalf("Apply(disabled) = %+v, %v", r.res, r.err)
	}
	if res, err := apply("disabled"); err != nil || res.Changed {
		t.Errorf("second Apply(disabled) = %+v, %v", res, err)
	}
	if res, err := apply("enabled"); err != nil || !res.Changed || res.Msg != "fe01 disabled -> enabled (0 sessions)" {
		t.Errorf("Apply(enabled) = %+v, %v", res, err)
	}
	if got := l.nlb.State("fe01"); got != windowsnlbtest.Converged {
		t.Errorf("fe01 is %s after enabling", got)
	}
	want := []string{
		"Stop-NlbClusterNode fe01 -Drain (in a second runspace)",
		"Stop-NlbClusterNode fe01 -Drain -Timeout 10",
		"Start-NlbClusterNode fe01",
	}
	if got := l.nlb.Commands(); !slices.Equal(got, want) {
		t.Errorf("cmdlets\n got %q\nwant %q", got, want)
	}
}
