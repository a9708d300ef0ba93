package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/osrun/osrun/modules/hostscript"
)

// windowsNames are the OutSystems service names, which equal their display
// names (outsystems-facts §1.4).
var windowsNames = map[string]string{
	"deployer":   "OutSystems Deployment Service",
	"controller": "OutSystems Deployment Controller Service",
	"scheduler":  "OutSystems Scheduler Service",
	"log":        "OutSystems Log Service",
	"sms":        "OutSystems SMS Connector Service",
}

// windowsStartup maps the startup argument to Set-Service -StartupType.
var windowsStartup = map[string]string{
	"automatic": "Automatic",
	"manual":    "Manual",
	"disabled":  "Disabled",
}

type windows struct {
	r    hostscript.Runner
	name string
}

func newWindows(r hostscript.Runner, name string) (*windows, error) {
	if n, ok := windowsNames[strings.ToLower(name)]; ok {
		name = n
	}
	// Get-Service -Name takes wildcards; a pattern could make a start or
	// stop act on several services at once.
	if strings.ContainsAny(name, "*?[]") {
		return nil, fmt.Errorf("service %q: wildcards are not allowed in a service name", name)
	}
	return &windows{r: r, name: name}, nil
}

func (w *windows) label() string { return fmt.Sprintf("service %q", w.name) }

func (w *windows) canSetStartup() error { return nil }

func (w *windows) read(ctx context.Context) (status, error) {
	out, err := w.run(ctx, "windows_status.ps1", map[string]string{"Name": w.name}, "read")
	if err != nil {
		return status{}, err
	}
	raw, ok := out.Value("status")
	if !ok {
		return status{}, fmt.Errorf("read %s: the status script reported no status", w.label())
	}
	startup, _ := out.Value("startup")
	return status{state: windowsState(raw), raw: raw, startup: startup}, nil
}

// windowsState maps ServiceControllerStatus names.
func windowsState(raw string) string {
	switch raw {
	case "Running":
		return running
	case "Stopped":
		return stopped
	case "StartPending", "ContinuePending":
		return starting
	case "StopPending", "PausePending":
		return stopping
	case "Paused":
		return paused
	case "Missing":
		return missing
	}
	return unknown
}

func (w *windows) start(ctx context.Context) error {
	_, err := w.run(ctx, "windows_set.ps1", map[string]string{"Name": w.name, "Action": "start"}, "start")
	return err
}

func (w *windows) stop(ctx context.Context) error {
	_, err := w.run(ctx, "windows_set.ps1", map[string]string{"Name": w.name, "Action": "stop"}, "stop")
	return err
}

func (w *windows) setStartup(ctx context.Context, startup string) error {
	mode, ok := windowsStartup[startup]
	if !ok {
		return fmt.Errorf("set startup of %s: unknown startup type %q", w.label(), startup)
	}
	_, err := w.run(ctx, "windows_set.ps1", map[string]string{"Name": w.name, "Action": "startup", "Startup": mode}, "set startup of")
	return err
}

func (w *windows) run(ctx context.Context, tmpl string, data map[string]string, verb string) (*hostscript.Output, error) {
	text, err := scripts.Render(tmpl, data)
	if err != nil {
		return nil, err
	}
	out, err := hostscript.Exec(ctx, w.r, hostscript.Script{Text: text, TailLines: 10})
	if err != nil {
		return out, hostscript.Annotate(fmt.Errorf("%s %s: %w", verb, w.label(), err), out.Tail())
	}
	return out, nil
}

func (w *windows) reportsTransitions() bool { return true }
