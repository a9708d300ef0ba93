package waitdeployer_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/lab/servicecenter"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/approval"
	"github.com/osrun/osrun/modules/approval/approvaltest"
	"github.com/osrun/osrun/modules/moduletest"
	"github.com/osrun/osrun/modules/waitdeployer"
)

// progressLog collects progress lines.
type progressLog struct {
	mu    sync.Mutex
	lines []string
}

func (p *progressLog) add(s string) {
	p.mu.Lock()
	p.lines = append(p.lines, s)
	p.mu.Unlock()
}

func (p *progressLog) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

func farm(driver string, settings inventory.Values, progress *progressLog) *modules.Env {
	host := &inventory.Host{Name: "fe01", Zone: "z1"}
	inv := &inventory.Inventory{
		Hosts:          []*inventory.Host{host},
		Zones:          []*inventory.Zone{{Name: "z1", ServiceCenter: "sc", Hosts: []*inventory.Host{host}}},
		ServiceCenters: map[string]*inventory.Endpoint{"sc": {Name: "sc", Driver: driver, Settings: settings}},
	}
	env := &modules.Env{Host: host, Inventory: inv}
	if progress != nil {
		env.Progress = progress.add
	}
	return env
}

func newAction(t *testing.T, opts waitdeployer.Options, args map[string]cty.Value) modules.Action {
	t.Helper()
	def := waitdeployer.Definition(opts)
	act, err := def.New(moduletest.Args(t, def, args))
	if err != nil {
		t.Fatal(err)
	}
	return act
}

func httpEnv(p *progressLog) *modules.Env {
	return farm("http", inventory.Values{"url": cty.StringVal("http://sc.invalid")}, p)
}

// A loaded front-end after its platform upgrade: the simulator deploys
// for 40s, threads falling asleep one by one.
func TestWaitsForTheDeployment(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim, err := servicecenter.New(servicecenter.Options{Version: "11.29.1", DeployTime: 40 * time.Second},
			servicecenter.Frontend{Name: "fe01"})
		if err != nil {
			t.Fatal(err)
		}
		sim.FrontendUpgraded("fe01", "11.31.0")
		sim.PlatformUpgraded("11.31.0")
		act := newAction(t, waitdeployer.Options{Transport: sim.Transport()}, map[string]cty.Value{
			"stable": cty.StringVal("10s"), "poll_interval": cty.StringVal("2s")})
		var progress progressLog
		env := httpEnv(&progress)

		check, err := act.Check(t.Context(), env)
		if err != nil || check.Changed || check.Msg != "fe01: 0/8 threads sleeping (1: Working, 2: Working, 3: Working, 4: Working, 5: Working, 6: Working, 7: Working, 8: Working) now; apply waits until all sleep for 10s" {
			t.Fatalf("Check = %+v, %v", check, err)
		}
		start := time.Now()
		r, err := act.Apply(t.Context(), env)
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		took := time.Since(start)
		if took < 50*time.Second || took > 54*time.Second {
			t.Errorf("Apply returned after %v, want 40s of deployment + 10s stable", took)
		}
		if r.Changed || r.Msg != "all 8 Deployment Service threads of fe01 sleeping for 10s (waited 50s)" {
			t.Errorf("Apply = %v %q", r.Changed, r.Msg)
		}
		if !strings.Contains(progress.String(), "fe01: 4/8 threads sleeping (5: Working, 6: Working, 7: Working, 8: Working)") {
			t.Errorf("progress never showed threads falling asleep:\n%s", progress.String())
		}
		if f, _ := sim.Frontend("fe01"); f.AppsVersion != "11.31.0" {
			t.Errorf("deployment not finished when Apply returned: %+v", f)
		}
		again, err := act.Apply(t.Context(), env)
		if err != nil || again.Changed {
			t.Errorf("second Apply = %+v, %v", again, err)
		}
	})
}

// scripted serves thread states that depend on the time since start.
func scripted(start time.Time, states func(since time.Duration) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, states(time.Since(start)))
	})
}

func threads(statuses ...string) string {
	var parts []string
	for i, s := range statuses {
		parts = append(parts, fmt.Sprintf(`{"id":%d,"status":%q}`, i+1, s))
	}
	return `{"service":"running","threads":[` + strings.Join(parts, ",") + `]}`
}

// Threads that sleep, then work again: the stable period starts over.
func TestStablePeriodRestarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		h := scripted(start, func(since time.Duration) string {
			if since >= 6*time.Second && since < 14*time.Second {
				return threads("Sleeping", "Working")
			}
			return threads("Sleeping", "Idle")
		})
		act := newAction(t, waitdeployer.Options{Transport: handlerTransport{h}}, map[string]cty.Value{
			"stable": cty.StringVal("10s"), "poll_interval": cty.StringVal("2s")})
		if _, err := act.Apply(t.Context(), httpEnv(nil)); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took != 24*time.Second {
			t.Errorf("Apply returned after %v, want 24s (asleep again from 14s, stable for 10s)", took)
		}
	})
}

func TestTimeouts(t *testing.T) {
	tests := []struct {
		name    string
		body    func(since time.Duration) (int, string)
		wantErr string
	}{
		{"threads keep working", func(time.Duration) (int, string) { return 200, threads("Sleeping", "Working") },
			"wait for the Deployment Service of fe01: not finished after 1m0s: last seen 1/2 threads sleeping (2: Working); threads 1 Sleeping, 2 Working"},
		{"service stopped", func(time.Duration) (int, string) { return 200, `{"service":"stopped","threads":[]}` },
			"not finished after 1m0s: last seen Deployment Service not running"},
		{"server failing after a good answer", func(since time.Duration) (int, string) {
			if since < 10*time.Second {
				return 200, threads("Working")
			}
			return 502, "bad gateway"
		}, "last seen 0/1 threads sleeping (1: Working); threads 1 Working; last poll failed: service_center sc: GET http://sc.invalid/frontends/fe01/deployer: unexpected status 502 Bad Gateway: bad gateway"},
		{"never answers JSON", func(time.Duration) (int, string) { return 200, "<html>" },
			"not finished after 1m0s: never read; last poll failed: service_center sc: GET http://sc.invalid/frontends/fe01/deployer: answer is not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					status, body := tt.body(time.Since(start))
					w.WriteHeader(status)
					io.WriteString(w, body)
				})
				act := newAction(t, waitdeployer.Options{Transport: handlerTransport{h}}, map[string]cty.Value{"wait_timeout": cty.StringVal("1m")})
				_, err := act.Apply(t.Context(), httpEnv(nil))
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Apply = %v\nwant it to contain %q", err, tt.wantErr)
				}
				if took := time.Since(start); took != time.Minute {
					t.Errorf("gave up after %v, want 1m", took)
				}
			})
		})
	}
}

// Answers that waiting will not change fail at once.
func TestFatalAnswers(t *testing.T) {
	sim, _ := servicecenter.New(servicecenter.Options{Version: "1", Token: "right"}, servicecenter.Frontend{Name: "other"})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	for _, tt := range []struct {
		name     string
		settings inventory.Values
		wantErr  string
	}{
		{"no credentials", inventory.Values{"url": cty.StringVal(srv.URL)}, "unexpected status 401"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			act := newAction(t, waitdeployer.Options{}, nil)
			_, err := act.Apply(t.Context(), farm("http", tt.settings, nil))
			if err == nil || !strings.Contains(err.Error(), "read Deployment Service threads of fe01: ") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Apply = %v, want %q", err, tt.wantErr)
			}
		})
	}
	sim2, _ := servicecenter.New(servicecenter.Options{Version: "1"}, servicecenter.Frontend{Name: "other"})
	act := newAction(t, waitdeployer.Options{Transport: sim2.Transport()}, nil)
	_, err := act.Apply(t.Context(), httpEnv(nil))
	if err == nil || !strings.Contains(err.Error(), `404 Not Found: {"error":"unknown front-end \"fe01\""}`) {
		t.Fatalf("unknown front-end: %v", err)
	}
}

func TestManualDriver(t *testing.T) {
	gate := &approvaltest.Recorder{}
	env := farm("manual", nil, nil)
	act := newAction(t, waitdeployer.Options{Gate: gate}, nil)
	check, err := act.Check(t.Context(), env)
	if err != nil || check.Changed || !strings.HasPrefix(check.Msg, "would ask the operator") || len(gate.IDs) != 0 {
		t.Fatalf("Check = %+v, %v (asked %v)", check, err, gate.IDs)
	}
	r, err := act.Apply(t.Context(), env)
	if err != nil || r.Changed {
		t.Fatalf("Apply = %+v, %v", r, err)
	}
	if len(gate.IDs) != 1 || gate.IDs[0] != "wait_deployer.fe01" ||
		!strings.Contains(gate.Instructions[0], "Monitoring » Environment Health » fe01 » Deployment") ||
		!strings.Contains(gate.Instructions[0], "Sleeping") {
		t.Fatalf("asked %v: %q", gate.IDs, gate.Instructions)
	}
	if r, err := act.Apply(t.Context(), env); err != nil || r.Changed || len(gate.IDs) != 1 {
		t.Errorf("second Apply = %+v, %v; asked %d times", r, err, len(gate.IDs))
	}

	synctest.Test(t, func(t *testing.T) {
		act := newAction(t, waitdeployer.Options{Gate: &approval.File{Dir: t.TempDir()}}, map[string]cty.Value{"wait_timeout": cty.StringVal("5m")})
		_, err := act.Apply(t.Context(), env)
		if !errors.Is(err, approval.ErrTimeout) || !strings.Contains(err.Error(), "wait for the Deployment Service of fe01: waiting for the operator") {
			t.Fatalf("unanswered gate: %v", err)
		}
	})
	act = newAction(t, waitdeployer.Options{}, nil)
	if _, err := act.Apply(t.Context(), env); err == nil || !strings.Contains(err.Error(), "needs an approval gate") {
		t.Errorf("no gate: %v", err)
	}
}

func TestArguments(t *testing.T) {
	def := waitdeployer.Definition(waitdeployer.Options{})
	if def.Name != "wait_deployer" || def.DefaultOn != modules.OnControl {
		t.Errorf("Name %q DefaultOn %q", def.Name, def.DefaultOn)
	}
	for _, bad := range []map[string]string{{"wait_timeout": "0s"}, {"poll_interval": "-1s"}, {"stable": "later"}, {"stable": "-5s"}} {
		args := map[string]cty.Value{}
		for k, v := range bad {
			args[k] = cty.StringVal(v)
		}
		if _, err := def.New(moduletest.Args(t, def, args)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}
