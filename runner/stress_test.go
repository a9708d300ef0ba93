package runner

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/synctest"
)

// TestManyHosts checks the runner's invariants on a larger farm with
// random task durations: every host runs every task exactly once, batches
// follow serial, tasks run in lock-step inside each batch, and no more
// than forks hosts ever run at once.
func TestManyHosts(t *testing.T) {
	const hosts, forks, tasks = 60, 7, 4
	var inv strings.Builder
	for i := range hosts {
		roles := `["frontend"]`
		if i == 0 {
			roles = `["controller", "frontend"]`
		}
		fmt.Fprintf(&inv, "host \"h%02d\" {\n  address = \"10.0.1.%d\"\n  stack = \"j2ee\"\n  transport = \"local\"\n  roles = %s\n}\n", i, i, roles)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var pb strings.Builder
	pb.WriteString("wave \"all\" {\n  hosts = group.all\n  serial = [1, \"30%\"]\n")
	for k := range tasks {
		// A per-host duration from a seeded table, so hosts overtake each
		// other differently in every task.
		var cases []string
		for i := range hosts {
			cases = append(cases, fmt.Sprintf("h%02d = \"%ds\"", i, 1+rng.IntN(30)))
		}
		fmt.Fprintf(&pb, "  task \"probe\" \"t%d\" {\n    name = \"t%d\"\n    on = \"host\"\n    on_conn = true\n    sleep = {%s}[host.name]\n  }\n", k, k, strings.Join(cases, ", "))
	}
	pb.WriteString("}\n")

	synctest.Test(t, func(t *testing.T) {
		f := loadWith(t, inv.String(), pb.String())
		recap, evs := f.run(t, t.Context(), Options{Forks: forks})
		if recap.Outcome != OutcomeSuccess {
			t.Fatalf("outcome %s", recap.Outcome)
		}
		if f.rec.maxActive > forks {
			t.Errorf("%d hosts ran at once, forks is %d", f.rec.maxActive, forks)
		}
		// serial [1, "30%"] of 60: 1, then batches of 18.
		var sizes []int
		for _, ev := range evs.of(BatchStart) {
			sizes = append(sizes, len(ev.Hosts))
		}
		if want := []int{1, 18, 18, 18, 5}; fmt.Sprint(sizes) != fmt.Sprint(want) {
			t.Errorf("batch sizes %v, want %v", sizes, want)
		}
		// Lock-step: within a batch the calls are task-ordered.
		i := 0
		for _, size := range sizes {
			last := -1
			for _, c := range f.rec.calls[i : i+size*tasks] {
				var k int
				fmt.Sscanf(c.task, "t%d", &k)
				if k < last {
					t.Fatalf("task %s started after t%d in the same batch", c.task, last)
				}
				last = k
			}
			i += size * tasks
		}
		for _, h := range recap.Hosts {
			if h.OK != tasks || f.rec.dials[h.Host] != 1 || f.rec.closes[h.Host] != 1 {
				t.Errorf("%s: recap %+v, %d dials, %d closes", h.Host, h, f.rec.dials[h.Host], f.rec.closes[h.Host])
			}
		}
	})
}
