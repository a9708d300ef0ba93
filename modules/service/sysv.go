package service

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/osrun/osrun/modules/hostscript"
)

// outsystemsSubs are the sub-services of "service outsystems". Log and SMS
// have no documented sub-service name (outsystems-facts §2).
var outsystemsSubs = map[string]string{
	"deployer":   "DEPLOYER",
	"controller": "CONTROLLER",
	"scheduler":  "SCHEDULER",
}

// sysvName is what a raw SysV service name may look like; anything else is
// almost certainly a mistake (a Windows name on a Linux host).
var sysvName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]*$`)

type sysv struct {
	r       hostscript.Runner
	service string
	sub     string // "" for a plain SysV service
}

func newSysV(r hostscript.Runner, name string) (*sysv, error) {
	lower := strings.ToLower(name)
	if sub, ok := outsystemsSubs[lower]; ok {
		return &sysv{r: r, service: "outsystems", sub: sub}, nil
	}
	if _, ok := windowsNames[lower]; ok {
		return nil, fmt.Errorf("service %s: J2EE has no documented sub-service of \"service outsystems\" for it; give the SysV service name", name)
	}
	if !sysvName.MatchString(name) {
		return nil, fmt.Errorf("service %q: not a SysV service name", name)
	}
	return &sysv{r: r, service: name}, nil
}

func (s *sysv) label() string {
	if s.sub != "" {
		return fmt.Sprintf("\"service %s %s\"", s.service, s.sub)
	}
	return fmt.Sprintf("\"service %s\"", s.service)
}

func (s *sysv) canSetStartup() error {
	return fmt.Errorf("%s: startup is not supported on J2EE hosts (OutSystems documents only the interactive serviceconfigurator.sh)", s.label())
}

func (s *sysv) setStartup(context.Context, string) error { return s.canSetStartup() }

// statusLine is how "service outsystems status X" reports, e.g.
// "OutSystems Scheduler Service  -  DISABLED".
var statusLine = regexp.MustCompile(`^\s*(.*\S)\s+-\s+([A-Z][A-Z _]*[A-Z])\s*$`)

func (s *sysv) read(ctx context.Context) (status, error) {
	out, err := s.run(ctx, "sysv_status.sh", "", "read")
	if err != nil {
		return status{}, err
	}
	rcText, _ := out.Value("rc")
	rc, err := strconv.Atoi(rcText)
	if err != nil {
		return status{}, hostscript.Annotate(fmt.Errorf("read %s: the status script reported no exit status", s.label()), out.Tail())
	}
	if rc == 127 {
		return status{}, hostscript.Annotate(fmt.Errorf("read %s: the service command was not found", s.label()), out.Tail())
	}
	if s.sub != "" {
		for _, l := range out.Tail() {
			if m := statusLine.FindStringSubmatch(l); m != nil {
				return status{state: outsystemsState(m[2]), raw: m[2]}, nil
			}
		}
		return status{}, hostscript.Annotate(fmt.Errorf("read %s: no \"<service> - <STATE>\" line in its output (exit status %d)", s.label(), rc), out.Tail())
	}
	switch rc {
	case 0:
		return status{state: running, raw: "running"}, nil
	case 1, 2, 3:
		return status{state: stopped, raw: fmt.Sprintf("not running (status exit %d)", rc)}, nil
	}
	return status{}, hostscript.Annotate(fmt.Errorf("read %s: status unknown (exit %d)", s.label(), rc), out.Tail())
}

// outsystemsState maps the words "service outsystems status" prints. Only
// RUNNING and DISABLED are documented; the rest are the usual SysV words.
func outsystemsState(word string) string {
	switch word {
	case "RUNNING":
		return running
	case "STOPPED", "NOT RUNNING", "DEAD", "STOP":
		return stopped
	case "STARTING":
		return starting
	case "STOPPING":
		return stopping
	case "DISABLED":
		return disabled
	}
	return unknown
}

func (s *sysv) start(ctx context.Context) error {
	_, err := s.run(ctx, "sysv_action.sh", "start", "start")
	return err
}

func (s *sysv) stop(ctx context.Context) error {
	_, err := s.run(ctx, "sysv_action.sh", "stop", "stop")
	return err
}

// run sends a script as root: the OutSystems init script manages services
// of the outsystems user and reads root-only pid files.
func (s *sysv) run(ctx context.Context, tmpl, act, verb string) (*hostscript.Output, error) {
	text, err := scripts.Render(tmpl, map[string]string{"Service": s.service, "Sub": s.sub, "Action": act})
	if err != nil {
		return nil, err
	}
	out, err := hostscript.Exec(ctx, s.r, hostscript.Script{Text: text, Become: true, TailLines: 10})
	if err != nil {
		return out, hostscript.Annotate(fmt.Errorf("%s %s: %w", verb, s.label(), err), out.Tail())
	}
	return out, nil
}

func (s *sysv) reportsTransitions() bool { return false }
