package verify

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/osrun/osrun/runner/playbook"
)

// groupState is the second, independent model the permutation test checks
// the verifier against: testdata/upgrade.hcl acts on whole sets (each zone
// has hosts of both), so the farm is safe exactly when this coarse model
// of the two sets says so.
type groupState struct{ in, enabled, upgraded bool }

type waveEffect struct {
	loaded               bool // acts on the loaded set, else the updating set
	out, in              bool
	disable, enable      bool
	disruptive, upgrades bool
}

var testdataWaves = map[string]waveEffect{
	"drain_updating":               {out: true},
	"disable_deployment_on_loaded": {loaded: true, disable: true},
	"upgrade_updating":             {disruptive: true, upgrades: true},
	"test_updating":                {},
	"switch_in_updating":           {in: true},
	"switch_out_loaded":            {loaded: true, out: true},
	"upgrade_loaded":               {loaded: true, disruptive: true, upgrades: true},
	"enable_deployment_on_loaded":  {loaded: true, enable: true},
	"wait_deployment":              {loaded: true},
	"all_in":                       {loaded: true, in: true},
}

// modelSafe says whether running the waves in this order is safe.
func modelSafe(order []string) bool {
	upd, ld := &groupState{in: true, enabled: true}, &groupState{in: true, enabled: true}
	controllerUpgraded := false
	for _, name := range order {
		e := testdataWaves[name]
		g, other := upd, ld
		if e.loaded {
			g, other = ld, upd
		}
		switch {
		case e.disruptive && g.in: // a disruptive task in rotation
			return false
		case e.upgrades && !e.loaded && ld.enabled: // the controller before the loaded set is disabled
			return false
		case e.upgrades && e.loaded && !controllerUpgraded: // a front-end before the controller
			return false
		case e.enable && e.loaded && !g.enabled && !g.upgraded && controllerUpgraded: // deployment back too early
			return false
		}
		serving := (g.in && !e.out && !e.disruptive) || other.in
		if !serving {
			return false
		}
		switch {
		case e.out:
			g.in = false
		case e.in:
			g.in = true
		case e.disable:
			g.enabled = false
		case e.enable:
			g.enabled = true
		}
		if e.upgrades {
			g.upgraded = true
			controllerUpgraded = controllerUpgraded || !e.loaded
		}
	}
	return upd.in && ld.in && ld.enabled && upd.enabled
}

// Reordering the waves of the correct playbook, the verifier finds an
// error exactly when the independent model calls the order unsafe.
func TestPermutedWaves(t *testing.T) {
	reg := testRegistry(t)
	inv := loadInventory(t, filepath.Join("testdata", "inventory.hcl"))
	pb := decodeFile(t, filepath.Join("testdata", "upgrade.hcl"), inv, reg)
	byName := map[string]*playbook.Wave{}
	var names []string
	for _, w := range pb.Waves {
		byName[w.Name] = w
		names = append(names, w.Name)
	}
	for _, n := range names {
		if _, ok := testdataWaves[n]; !ok {
			t.Fatalf("wave %s is not in the model", n)
		}
	}

	// Every single swap of two waves, then seeded random orders: most
	// random orders are unsafe, most single swaps are not.
	var orders [][]string
	for i := range names {
		for j := i + 1; j < len(names); j++ {
			o := slices.Clone(names)
			o[i], o[j] = o[j], o[i]
			orders = append(orders, o)
		}
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for range 150 {
		o := slices.Clone(names)
		rng.Shuffle(len(o), func(i, j int) { o[i], o[j] = o[j], o[i] })
		orders = append(orders, o)
	}

	safe := 0
	for _, o := range orders {
		cp := *pb
		cp.Waves = nil
		for _, n := range o {
			cp.Waves = append(cp.Waves, byName[n])
		}
		want := modelSafe(o)
		got := !Verify(&cp, inv, nil).HasErrors()
		if got != want {
			t.Errorf("order %s: verifier says safe=%v, the model safe=%v", strings.Join(o, " "), got, want)
		}
		if want {
			safe++
		}
	}
	if safe < 5 || safe == len(orders) {
		t.Errorf("%d of %d orders safe: the sample tests too little", safe, len(orders))
	}
	t.Logf("%d of %d orders safe", safe, len(orders))
}
