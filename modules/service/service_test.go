package service

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/hostscript"
	"github.com/osrun/osrun/modules/hostscript/hostscripttest"
	"github.com/osrun/osrun/transports"
)

// newAction builds an action the way the loader would: declared params
// present, defaults applied, absent ones null.
func newAction(t *testing.T, opts Options, given map[string]string) (modules.Action, error) {
	t.Helper()
	def := Definition(opts)
	args := modules.Args{}
	for _, p := range def.Params {
		switch v, ok := given[p.Name]; {
		case ok:
			args[p.Name] = cty.StringVal(v)
		case p.Default != cty.NilVal:
			args[p.Name] = p.Default
		default:
			args[p.Name] = cty.NullVal(p.Type)
		}
	}
	return def.New(args)
}

func mustAction(t *testing.T, opts Options, given map[string]string) modules.Action {
	t.Helper()
	a, err := newAction(t, opts, given)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func env(conn transports.Conn, stack inventory.Stack) (*modules.Env, *progressLog) {
	p := &progressLog{}
	return &modules.Env{Host: &inventory.Host{Name: "fe01", Stack: stack}, Conn: conn, Progress: p.add}, p
}

type progressLog struct {
	mu    sync.Mutex
	lines []string
}

func (p *progressLog) add(s string) { p.mu.Lock(); p.lines = append(p.lines, s); p.mu.Unlock() }

func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name  string
		given map[string]string
		want  string
	}{
		{"nothing to do", map[string]string{"name": "deployer"}, "give state, startup or both"},
		{"empty name", map[string]string{"name": " ", "state": "running"}, "name: must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newAction(t, Options{}, tt.given)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestGolden renders every script the module can send; the golden files
// are what a reviewer reads.
func TestGolden(t *testing.T) {
	cases := []struct {
		file, tmpl string
		data       map[string]string
	}{
		{"windows_status.ps1", "windows_status.ps1", map[string]string{"Name": "OutSystems Deployment Service"}},
		{"windows_start.ps1", "windows_set.ps1", map[string]string{"Name": "OutSystems Deployment Service", "Action": "start"}},
		{"windows_stop.ps1", "windows_set.ps1", map[string]string{"Name": "OutSystems Deployment Service", "Action": "stop"}},
		{"windows_startup.ps1", "windows_set.ps1", map[string]string{"Name": "OutSystems Deployment Service", "Action": "startup", "Startup": "Automatic"}},
		{"windows_status_quote.ps1", "windows_status.ps1", map[string]string{"Name": "it's $(evil)"}},
		{"sysv_status_outsystems.sh", "sysv_status.sh", map[string]string{"Service": "outsystems", "Sub": "DEPLOYER"}},
		{"sysv_status_raw.sh", "sysv_status.sh", map[string]string{"Service": "wildfly-outsystems", "Sub": ""}},
		{"sysv_start_outsystems.sh", "sysv_action.sh", map[string]string{"Service": "outsystems", "Sub": "DEPLOYER", "Action": "start"}},
		{"sysv_stop_raw.sh", "sysv_action.sh", map[string]string{"Service": "wildfly-outsystems", "Sub": "", "Action": "stop"}},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.tmpl] = true
		t.Run(c.file, func(t *testing.T) {
			got, err := scripts.Render(c.tmpl, c.data)
			if err != nil {
				t.Fatal(err)
			}
			if id := hostscript.ID(got); id == "" {
				t.Errorf("script has no id line")
			}
			hostscripttest.Golden(t, filepath.Join("testdata", "golden", c.file), got)
			if strings.HasSuffix(c.file, ".sh") {
				hostscripttest.SyntaxCheckSh(t, got)
			}
		})
	}
	hostscripttest.AllCovered(t, scripts.Names(), covered)
}

// winHost simulates the Service Control Manager of a Windows host: it
// answers the module's scripts by their id and the $Name line.
type winHost struct {
	mu sync.Mutex
	// services by name: status and startup. A start leaves the service in
	// StartPending for startReads status reads.
	services   map[string]*winService
	startReads int
	failStart  bool // the service stops again right after starting
	// refuseStart makes the SCM refuse to start (e.g. a logon failure).
	refuseStart bool
}

type winService struct {
	status, startup string
	pending         int
}

var psName = regexp.MustCompile(`(?m)^\$Name = '((?:[^']|'')*)'\r?$`)
var psStartup = regexp.MustCompile(`-StartupType '(\w+)'`)

func (h *winHost) handle(c hostscripttest.Call) hostscripttest.Reply {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := psName.FindStringSubmatch(c.Command)
	if m == nil {
		return hostscripttest.Reply{Stderr: "no $Name", Status: 1}
	}
	name := strings.ReplaceAll(m[1], "''", "'")
	svc := h.services[name]
	switch id := hostscript.ID(c.Command); {
	case id == "service/windows_status":
		if svc == nil {
			return hostscripttest.Reply{Stdout: "osrun-status=Missing\r\n"}
		}
		if svc.status == "StartPending" {
			if svc.pending == 0 {
				svc.status = "Running"
				if h.failStart {
					svc.status = "Stopped"
				}
			} else {
				svc.pending--
			}
		}
		if svc.status == "StopPending" {
			svc.status = "Stopped"
		}
		return hostscripttest.Reply{Stdout: fmt.Sprintf("osrun-name=%s\r\nosrun-status=%s\r\nosrun-startup=%s\r\n", name, svc.status, svc.startup)}
	case id == "service/windows_set" && svc == nil:
		return hostscripttest.Reply{Stderr: "Cannot find any service with service name '" + name + "'.", Status: 1}
	case id == "service/windows_set" && strings.Contains(c.Command, ".Start()"):
		if svc.startup == "Disabled" || h.refuseStart {
			return hostscripttest.Reply{Stderr: "Cannot start service " + name + " on computer '.'.", Status: 1}
		}
		svc.status, svc.pending = "StartPending", h.startReads
	case id == "service/windows_set" && strings.Contains(c.Command, "Stop-Service"):
		svc.status = "StopPending"
	case id == "service/windows_set" && strings.Contains(c.Command, "Set-Service"):
		svc.startup = psStartup.FindStringSubmatch(c.Command)[1]
	default:
		return hostscripttest.Reply{Stderr: "unexpected script " + id, Status: 1}
	}
	return hostscripttest.Reply{}
}

func newWinConn(h *winHost) *hostscripttest.FakeConn {
	return &hostscripttest.FakeConn{ShellName: "powershell", Handle: h.handle}
}

const deployer = "OutSystems Deployment Service"

func TestWindows(t *testing.T) {
	tests := []struct {
		name                 string
		status, startup      string
		args                 map[string]string
		wantChanged          bool
		wantCheck            string
		wantStatus, wantMode string
		wantErr              string
	}{
		{"start stopped", "Stopped", "Automatic", map[string]string{"state": "running"}, true,
			`would start service "OutSystems Deployment Service" (now Stopped, startup Automatic)`, "Running", "Automatic", ""},
		{"already running", "Running", "Automatic", map[string]string{"state": "running"}, false,
			`service "OutSystems Deployment Service" is Running, startup Automatic`, "Running", "Automatic", ""},
		{"stop running", "Running", "Manual", map[string]string{"state": "stopped"}, true,
			"would stop", "Stopped", "Manual", ""},
		{"already stopped", "Stopped", "Manual", map[string]string{"state": "stopped"}, false,
			"is Stopped", "Stopped", "Manual", ""},
		{"restart running", "Running", "Automatic", map[string]string{"state": "restarted"}, true,
			"would restart", "Running", "Automatic", ""},
		{"restart stopped starts", "Stopped", "Automatic", map[string]string{"state": "restarted"}, true,
			"would start", "Running", "Automatic", ""},
		{"startup and start a disabled service (procedure step 7)", "Stopped", "Disabled", map[string]string{"state": "running", "startup": "automatic"}, true,
			"would set startup Disabled → automatic and start", "Running", "Automatic", ""},
		{"startup only", "Running", "Manual", map[string]string{"startup": "disabled"}, true,
			"would set startup Manual → disabled", "Running", "Disabled", ""},
		{"startup already", "Running", "Automatic", map[string]string{"startup": "automatic"}, false,
			"is Running, startup Automatic", "Running", "Automatic", ""},
		{"disabled service needs a startup type", "Stopped", "Disabled", map[string]string{"state": "running"}, false,
			"", "", "", `has startup type Disabled, so it cannot be started: give startup = "automatic" or "manual"`},
		{"disabled service may be stopped", "Running", "Disabled", map[string]string{"state": "stopped"}, true,
			"would stop", "Stopped", "Disabled", ""},
		{"paused refused", "Paused", "Automatic", map[string]string{"state": "running"}, false,
			"", "", "", "is Paused, which osrun does not handle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &winHost{services: map[string]*winService{deployer: {status: tt.status, startup: tt.startup}}, startReads: 2}
			conn := newWinConn(h)
			args := map[string]string{"name": "deployer"}
			for k, v := range tt.args {
				args[k] = v
			}
			a := mustAction(t, Options{Poll: time.Millisecond}, args)
			e, _ := env(conn, inventory.StackDotNet)

			check, err := a.Check(t.Context(), e)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Check err = %v, want %q", err, tt.wantErr)
				}
				if _, err := a.Apply(t.Context(), e); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Apply err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if check.Changed != tt.wantChanged || !strings.Contains(check.Msg, tt.wantCheck) {
				t.Errorf("Check = %v %q, want %v %q", check.Changed, check.Msg, tt.wantChanged, tt.wantCheck)
			}
			for _, c := range conn.Calls() {
				if hostscript.ID(c.Command) != "service/windows_status" {
					t.Errorf("Check sent %s", hostscript.ID(c.Command))
				}
			}

			res, err := a.Apply(t.Context(), e)
			if err != nil {
				t.Fatal(err)
			}
			if res.Changed != tt.wantChanged {
				t.Errorf("Apply changed = %v, want %v (%s)", res.Changed, tt.wantChanged, res.Msg)
			}
			svc := h.services[deployer]
			if svc.status != tt.wantStatus || svc.startup != tt.wantMode {
				t.Errorf("host has %s/%s, want %s/%s", svc.status, svc.startup, tt.wantStatus, tt.wantMode)
			}
			if got := res.Output["status"].AsString(); got != tt.wantStatus {
				t.Errorf("output status = %q, want %q", got, tt.wantStatus)
			}

			again, err := a.Apply(t.Context(), e)
			if err != nil {
				t.Fatal(err)
			}
			if again.Changed && tt.args["state"] != "restarted" {
				t.Errorf("second Apply changed: %s", again.Msg)
			}
		})
	}
}

func TestWindowsErrors(t *testing.T) {
	t.Run("missing service", func(t *testing.T) {
		conn := newWinConn(&winHost{services: map[string]*winService{}})
		e, _ := env(conn, inventory.StackDotNet)
		a := mustAction(t, Options{}, map[string]string{"name": "sms", "state": "running"})
		_, err := a.Check(t.Context(), e)
		if err == nil || !strings.Contains(err.Error(), `service "OutSystems SMS Connector Service": no such service`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("wildcards refused", func(t *testing.T) {
		conn := newWinConn(&winHost{services: map[string]*winService{}})
		e, _ := env(conn, inventory.StackDotNet)
		a := mustAction(t, Options{}, map[string]string{"name": "OutSystems*", "state": "stopped"})
		if _, err := a.Apply(t.Context(), e); err == nil || !strings.Contains(err.Error(), "wildcards are not allowed") || len(conn.Calls()) != 0 {
			t.Fatalf("err = %v, calls %d", err, len(conn.Calls()))
		}
	})
	t.Run("start refused by the host shows what it said", func(t *testing.T) {
		h := &winHost{services: map[string]*winService{"Custom": {status: "Stopped", startup: "Manual"}}, refuseStart: true}
		e, _ := env(newWinConn(h), inventory.StackDotNet)
		a := mustAction(t, Options{}, map[string]string{"name": "Custom", "state": "running"})
		_, err := a.Apply(t.Context(), e)
		if err == nil || !strings.Contains(err.Error(), `start service "Custom"`) || !strings.Contains(err.Error(), "| Cannot start service Custom") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestWindowsWaits uses a fake clock: the service stays StartPending for
// 10 reads, 2s apart.
func TestWindowsWaits(t *testing.T) {
	tests := []struct {
		name       string
		startReads int
		failStart  bool
		timeout    time.Duration // the task's timeout; 0 leaves the module's default
		wantErr    string
	}{
		{"reaches running within the timeout", 10, false, time.Minute, ""},
		{"times out with the last state", 1000, false, 30 * time.Second, `service "OutSystems Deployment Service": timed out after 30s; last seen StartPending: context deadline exceeded`},
		{"default timeout without a task timeout", 1000, false, 0, "timed out after 5m0s; last seen StartPending"},
		{"stopped again after start fails early", 0, true, time.Hour, "is Stopped again after being asked to be running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := &winHost{services: map[string]*winService{deployer: {status: "Stopped", startup: "Automatic"}}, startReads: tt.startReads, failStart: tt.failStart}
				conn := newWinConn(h)
				e, progress := env(conn, inventory.StackDotNet)
				a := mustAction(t, Options{}, map[string]string{"name": "deployer", "state": "running"})
				ctx := t.Context()
				if tt.timeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.timeout)
					defer cancel()
				}
				begin := time.Now()
				_, err := a.Apply(ctx, e)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("err = %v, want %q", err, tt.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if took := time.Since(begin); took != 20*time.Second {
					t.Errorf("took %s, want 20s (10 polls of 2s)", took)
				}
				if len(progress.lines) != 10 || !strings.Contains(progress.lines[0], "StartPending, waiting for running") {
					t.Errorf("progress = %q", progress.lines)
				}
			})
		})
	}
}

// sandbox is a fake Linux host: the module's sh scripts really run, with
// testdata/bin/service standing in for the SysV service command.
func sandbox(t *testing.T, states map[string]string) (*hostscripttest.ShellConn, string) {
	t.Helper()
	dir := t.TempDir()
	bin, err := filepath.Abs("testdata/bin")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "services"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, state := range states {
		if err := os.WriteFile(filepath.Join(dir, "services", name), []byte(state+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &hostscripttest.ShellConn{Dir: dir, Bin: bin}, dir
}

func readState(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "services", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestSysV(t *testing.T) {
	tests := []struct {
		name        string
		file, state string
		args        map[string]string
		delay       string
		wantChanged bool
		wantCheck   string
		wantState   string
		wantErr     string
	}{
		{"start deployer (procedure step 7)", "outsystems.DEPLOYER", "STOPPED", map[string]string{"name": "deployer", "state": "running"}, "3", true,
			`would start "service outsystems DEPLOYER" (now STOPPED)`, "RUNNING", ""},
		{"deployer already running", "outsystems.DEPLOYER", "RUNNING", map[string]string{"name": "deployer", "state": "running"}, "", false,
			`"service outsystems DEPLOYER" is RUNNING`, "RUNNING", ""},
		{"stop scheduler", "outsystems.SCHEDULER", "RUNNING", map[string]string{"name": "scheduler", "state": "stopped"}, "", true,
			"would stop", "STOPPED", ""},
		{"restart controller", "outsystems.CONTROLLER", "RUNNING", map[string]string{"name": "CONTROLLER", "state": "restarted"}, "1", true,
			"would restart", "RUNNING", ""},
		{"raw service by exit status", "wildfly-outsystems", "STOPPED", map[string]string{"name": "wildfly-outsystems", "state": "running"}, "", true,
			`would start "service wildfly-outsystems" (now not running (status exit 3))`, "RUNNING", ""},
		{"disabled cannot start", "outsystems.DEPLOYER", "DISABLED", map[string]string{"name": "deployer", "state": "running"}, "", false,
			"", "DISABLED", "is DISABLED: it cannot be started"},
		{"startup not supported", "outsystems.DEPLOYER", "RUNNING", map[string]string{"name": "deployer", "startup": "automatic"}, "", false,
			"", "RUNNING", "startup is not supported on J2EE hosts"},
		{"log has no sub-service", "outsystems.DEPLOYER", "RUNNING", map[string]string{"name": "log", "state": "running"}, "", false,
			"", "RUNNING", "no documented sub-service"},
		{"unknown service", "outsystems.DEPLOYER", "RUNNING", map[string]string{"name": "nosuch", "state": "running"}, "", false,
			"", "RUNNING", "no \"<service> - <STATE>\" line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, dir := sandbox(t, map[string]string{tt.file: tt.state})
			if tt.delay != "" {
				os.WriteFile(filepath.Join(dir, "services", tt.file+".delay"), []byte(tt.delay), 0o644)
			}
			if tt.wantErr == "no \"<service> - <STATE>\" line" {
				// A raw name with an unexpected answer: make nosuch print garbage.
				os.WriteFile(filepath.Join(dir, "services", "nosuch"), []byte("RUNNING\n"), 0o644)
				tt.wantErr = "status unknown"
				tt.args["name"] = "nosuch"
				conn.Bin = t.TempDir()
				os.WriteFile(filepath.Join(conn.Bin, "service"), []byte("#!/bin/sh\necho confused\nexit 4\n"), 0o755)
			}
			a := mustAction(t, Options{Poll: time.Millisecond}, tt.args)
			e, _ := env(conn, inventory.StackJ2EE)

			check, err := a.Check(t.Context(), e)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Check err = %v, want %q", err, tt.wantErr)
				}
				if _, err := a.Apply(t.Context(), e); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Apply err = %v, want %q", err, tt.wantErr)
				}
				if got := readState(t, dir, tt.file); got != tt.wantState {
					t.Errorf("state changed to %s", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if check.Changed != tt.wantChanged || !strings.Contains(check.Msg, tt.wantCheck) {
				t.Errorf("Check = %v %q, want %v %q", check.Changed, check.Msg, tt.wantChanged, tt.wantCheck)
			}
			if got := readState(t, dir, tt.file); got != tt.state {
				t.Errorf("Check changed the state to %s", got)
			}
			res, err := a.Apply(t.Context(), e)
			if err != nil {
				t.Fatal(err)
			}
			if res.Changed != tt.wantChanged {
				t.Errorf("Apply changed = %v (%s)", res.Changed, res.Msg)
			}
			if got := readState(t, dir, tt.file); got != tt.wantState {
				t.Errorf("state = %s, want %s", got, tt.wantState)
			}
			for _, c := range conn.Calls() {
				if !c.Become {
					t.Errorf("%s sent without become", hostscript.ID(c.Command))
				}
			}
			if tt.args["state"] != "restarted" {
				again, err := a.Apply(t.Context(), e)
				if err != nil || again.Changed {
					t.Errorf("second Apply: %v %v %q", err, again.Changed, again.Msg)
				}
			}
		})
	}
}

// TestSysVTimeout answers the sh scripts from a scripted fake under a fake
// clock: DEPLOYER never gets past STARTING.
func TestSysVTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		state := "STOPPED"
		conn := &hostscripttest.FakeConn{ShellName: "sh", Handle: func(c hostscripttest.Call) hostscripttest.Reply {
			switch hostscript.ID(c.Command) {
			case "service/sysv_status":
				return hostscripttest.Reply{Stdout: "OutSystems Deployment Service - " + state + "\nosrun-rc=3\n"}
			case "service/sysv_action":
				state = "STARTING"
			}
			return hostscripttest.Reply{}
		}}
		e, _ := env(conn, inventory.StackJ2EE)
		a := mustAction(t, Options{DefaultTimeout: time.Minute}, map[string]string{"name": "deployer", "state": "running"})
		begin := time.Now()
		_, err := a.Apply(t.Context(), e)
		if err == nil || !strings.Contains(err.Error(), `"service outsystems DEPLOYER": timed out after 1m0s; last seen STARTING`) {
			t.Fatalf("err = %v", err)
		}
		if took := time.Since(begin); took != time.Minute {
			t.Errorf("gave up after %s, want 1m", took)
		}
	})
}

func TestEffects(t *testing.T) {
	tests := []struct {
		name, state string
		disruptive  bool
	}{
		{"scheduler", "stopped", false},
		{"OutSystems Deployment Service", "restarted", false},
		{"deployer", "running", false},
		{"W3SVC", "stopped", true},
		{"wildfly-outsystems", "restarted", true},
		{"W3SVC", "running", false},
	}
	def := Definition(Options{})
	for _, tt := range tests {
		args := modules.Args{"name": cty.StringVal(tt.name), "state": cty.StringVal(tt.state), "startup": cty.NullVal(cty.String)}
		if got := def.Effects(args); got.Disruptive != tt.disruptive {
			t.Errorf("%s %s: disruptive = %v", tt.name, tt.state, got.Disruptive)
		}
	}
}
