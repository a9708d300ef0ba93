package scale

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/lab/farm"
	"github.com/osrun/osrun/modules/builtin"
	"github.com/osrun/osrun/runner"
	"github.com/osrun/osrun/runner/playbook"
	"github.com/osrun/osrun/transports/ssh"
	"github.com/osrun/osrun/transports/winrm"
)

// BenchmarkUpgrade runs the whole balanced upgrade of playbooks/upgrade.hcl
// on a lab farm of 20 front-ends (the baseline) and of 200 (4 zones each,
// mixed stacks), with 1ms installers and deployments, so what is left is
// osrun's own work: loading, verifying, the transports, the modules'
// polls (50ms) and the runner, at 100 forks. The playbook's wait_deployer
// keeps its 10s stable period, a floor under both wall times. The lab
// runs in the same process, so the memory figures include it: the peak
// live heap during the run (sampled every 10ms), what the run allocated,
// and the process's peak RSS so far (run 20 first: RSS only grows).
//
//	go test ./bench/scale -run '^$' -bench Upgrade -benchtime 1x -timeout 30m
func BenchmarkUpgrade(b *testing.B) {
	for _, n := range []int{20, 200} {
		b.Run(fmt.Sprintf("frontends=%d", n), func(b *testing.B) {
			for range b.N {
				upgrade(b, n/4)
			}
		})
	}
}

func upgrade(b *testing.B, perZone int) {
	f, err := farm.Start(b.Context(), farm.Config{
		Zones: 4, FrontendsPerZone: perZone, Dir: b.TempDir(),
		InstallTime: time.Millisecond, DeployTime: time.Millisecond,
		CheckInterval: 200 * time.Millisecond, Clients: 2, RequestInterval: 20 * time.Millisecond,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stopSampling, peakHeap := sampleHeap()
	start := time.Now()

	parser := hclparse.NewParser()
	file, diags := playbook.Parse(parser, upgradePlaybook)
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	inv, diags := inventory.Load(parser, f.Inventory())
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	reg, err := builtin.Registry(builtin.Options{PollInterval: 50 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	pb, diags := file.Decode(inv, reg, f.Vars(), nil)
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	ctx, cancel := context.WithTimeout(b.Context(), 10*time.Minute)
	recap, err := runner.Run(ctx, pb, inv, runner.Options{
		Forks: 100,
		Dialers: map[string]runner.Dialer{
			"ssh":   ssh.Dialer{Options: ssh.Options{Warn: func(string) {}}},
			"winrm": &winrm.Dialer{Options: winrm.Options{Warn: func(string) {}}},
		},
	})
	cancel()
	elapsed := time.Since(start)
	stopSampling()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	v := f.Verdict()
	if err != nil || recap.Outcome != runner.OutcomeSuccess || !v.OK() {
		b.Fatalf("run: %v %v\n%s", err, recap, v)
	}
	if ok, bad := v.Upgraded("11.31.0"); !ok {
		b.Fatalf("not upgraded: %v", bad)
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	b.ReportMetric(elapsed.Seconds(), "s/upgrade")
	b.ReportMetric(float64(*peakHeap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(before.HeapAlloc)/(1<<20), "lab-heap-MiB")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), "alloc-MiB/upgrade")
	b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB")
	b.ReportMetric(float64(v.Traffic.Sent), "requests")
}

// sampleHeap samples the live heap every 10ms until stop is called; peak
// is valid after stop returns.
func sampleHeap() (stop func(), peak *uint64) {
	peak = new(uint64)
	done, finished := make(chan struct{}), make(chan struct{})
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(finished)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			*peak = max(*peak, sample[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done); <-finished }, peak
}
