package farm_test

import (
	"context"
	"runtime"
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

// BenchmarkUpgrade runs the whole balanced upgrade of a 200-front-end lab
// farm (4 zones of 50, mixed stacks) with near-instant installers and
// deployments, so what is left is osrun's own work: loading, the
// transports, the modules' polls (50ms) and the runner, at 100 forks (every host of a batch at once). The
// playbook's wait_deployer keeps its 10s stable period, a floor under
// the wall time. Memory is the process's peak RSS, lab included, and what
// the run allocated.
//
//	go test ./lab/farm -run '^$' -bench Upgrade -benchtime 1x
func BenchmarkUpgrade(b *testing.B) {
	for range b.N {
		f, err := farm.Start(b.Context(), farm.Config{
			Zones: 4, FrontendsPerZone: 50, Dir: b.TempDir(),
			InstallTime: time.Millisecond, DeployTime: time.Millisecond,
			CheckInterval: 200 * time.Millisecond, Clients: 2, RequestInterval: 20 * time.Millisecond,
		})
		if err != nil {
			b.Fatal(err)
		}
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
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
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		v := f.Verdict()
		f.Close()
		if err != nil || recap.Outcome != runner.OutcomeSuccess || !v.OK() {
			b.Fatalf("run: %v %v\n%s", err, recap, v)
		}
		if ok, bad := v.Upgraded("11.31.0"); !ok {
			b.Fatalf("not upgraded: %v", bad)
		}
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		b.ReportMetric(elapsed.Seconds(), "s/upgrade")
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB")
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), "alloc-MiB/upgrade")
		b.ReportMetric(float64(v.Traffic.Sent), "requests")
	}
}
