package servicecenter

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Thread statuses as Service Center shows them.
const (
	Sleeping = "Sleeping"
	Working  = "Working"
)

// Options configure a Server. Zero values take the documented defaults.
type Options struct {
	// Version is the platform version of the environment when the lab starts;
	// front-ends without a Version run it and hold applications built for it.
	Version string
	// Threads per Deployment Service; 8 when zero.
	Threads int
	// DeployTime is how long a deployment to one front-end takes; 2s when zero.
	DeployTime time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Token, when set, is accepted as "Authorization: Bearer <Token>".
	Token string
	// User and Password, when set, are accepted as HTTP Basic credentials.
	// With neither Token nor User set, the API needs no credentials.
	User, Password string
	// OnEvent, when set, is called with every event as it is recorded (the
	// lab's monitor uses it to catch the moment a front-end breaks). It is
	// called with the Server locked, in order: it must not call the Server.
	OnEvent func(Event)
}

// Frontend is a front-end as the lab starts it.
type Frontend struct {
	Name string
	// Version of the platform it runs; Options.Version when empty.
	Version            string
	DeploymentDisabled bool
	DeployerStopped    bool
}

// Thread is one Deployment Service thread.
type Thread struct {
	ID     int    `json:"id"`
	Status string `json:"status"`
}

// FrontendState is a snapshot of one front-end.
type FrontendState struct {
	Name              string
	PlatformVersion   string
	AppsVersion       string // the platform version its deployed components were built for
	DeploymentEnabled bool
	DeployerRunning   bool
	Deploying         bool
	Broken            bool
	Threads           []Thread // empty while the Deployment Service is stopped
}

// Event is one thing that happened, for the lab's monitor and verdict.
type Event struct {
	At       time.Time
	Frontend string // "" for the environment as a whole
	Kind     EventKind
	What     string // for people
}

// EventKind says what an Event is, so the lab can act on it (e.g. make a
// front-end's application server fail while it is Broke and not Repaired).
type EventKind string

const (
	PlatformUpgrade    EventKind = "platform-upgrade" // the environment's version
	FrontendUpgrade    EventKind = "frontend-upgrade"
	DeploymentEnabled  EventKind = "deployment-enabled"
	DeploymentDisabled EventKind = "deployment-disabled"
	DeployerStarted    EventKind = "deployer-started"
	DeployerStopped    EventKind = "deployer-stopped"
	Deploying          EventKind = "deploying"
	Deployed           EventKind = "deployed"
	DeployAborted      EventKind = "deploy-aborted"
	Broke              EventKind = "broke"
	Repaired           EventKind = "repaired"
)

// Server is the simulated Service Center. It is safe for concurrent use.
type Server struct {
	opts   Options
	routes *http.ServeMux

	mu      sync.Mutex
	version string // the environment's platform version: what it deploys
	fes     map[string]*frontend
	order   []string
	history []Event
}

type frontend struct {
	name     string
	platform string
	apps     string
	enabled  bool
	running  bool
	target   string // version being deployed; "" when no deployment runs
	started  time.Time
	broken   bool
}

// New returns a Service Center managing fes, in that order.
func New(opts Options, fes ...Frontend) (*Server, error) {
	if opts.Threads <= 0 {
		opts.Threads = 8
	}
	if opts.DeployTime <= 0 {
		opts.DeployTime = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, version: opts.Version, fes: make(map[string]*frontend, len(fes))}
	for _, f := range fes {
		if f.Name == "" {
			return nil, fmt.Errorf("service center: a front-end without a name")
		}
		if _, dup := s.fes[f.Name]; dup {
			return nil, fmt.Errorf("service center: front-end %q listed twice", f.Name)
		}
		v := f.Version
		if v == "" {
			v = opts.Version
		}
		s.fes[f.Name] = &frontend{name: f.Name, platform: v, apps: v, enabled: !f.DeploymentDisabled, running: !f.DeployerStopped}
		s.order = append(s.order, f.Name)
	}
	s.routes = s.mux()
	return s, nil
}

// PlatformUpgraded tells Service Center the environment now runs version
// (the controller was upgraded and its Configuration Tool republished), so
// it deploys applications built for it wherever it can.
func (s *Server) PlatformUpgraded(version string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.advance()
	if s.version == version {
		return
	}
	s.version = version
	s.record(now, "", PlatformUpgrade, "platform upgraded to "+version)
	for _, name := range s.order {
		s.maybeDeploy(s.fes[name], now)
	}
}

// FrontendUpgraded tells Service Center that front-end name now runs the
// platform version. A front-end broken by newer components is repaired
// once its platform reaches their version.
func (s *Server) FrontendUpgraded(name, version string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.advance()
	f, ok := s.fes[name]
	if !ok {
		return fmt.Errorf("service center: unknown front-end %q", name)
	}
	if f.platform == version {
		return nil
	}
	f.platform = version
	s.record(now, name, FrontendUpgrade, "platform upgraded to "+version)
	if f.broken && compareVersions(f.platform, f.newest()) >= 0 {
		f.broken = false
		s.record(now, name, Repaired, "repaired: platform "+version+" runs its components")
	}
	s.maybeDeploy(f, now)
	return nil
}

// SetDeployerRunning tells Service Center whether the front-end's
// Deployment Service is running. Stopping it aborts a deployment in
// progress; starting it lets pending deployments begin.
func (s *Server) SetDeployerRunning(name string, running bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.advance()
	f, ok := s.fes[name]
	if !ok {
		return fmt.Errorf("service center: unknown front-end %q", name)
	}
	if f.running == running {
		return nil
	}
	f.running = running
	if !running {
		s.record(now, name, DeployerStopped, "deployment service stopped")
		if f.target != "" {
			s.record(now, name, DeployAborted, "deployment of "+f.target+" components aborted")
			f.target = ""
		}
		return nil
	}
	s.record(now, name, DeployerStarted, "deployment service started")
	s.maybeDeploy(f, now)
	return nil
}

// SetDeployment enables or disables deployment to the front-end, as the
// Administration » Servers page (and the HTTP API) does.
func (s *Server) SetDeployment(name string, enabled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.setDeployment(name, enabled); err != nil {
		return fmt.Errorf("service center: %w", err)
	}
	return nil
}

func (s *Server) setDeployment(name string, enabled bool) error {
	now := s.advance()
	f, ok := s.fes[name]
	if !ok {
		return errUnknown(name)
	}
	if f.enabled == enabled {
		return nil
	}
	f.enabled = enabled
	if !enabled {
		s.record(now, name, DeploymentDisabled, "deployment disabled")
		return nil
	}
	s.record(now, name, DeploymentEnabled, "deployment enabled")
	s.maybeDeploy(f, now)
	return nil
}

type unknownError string

func (e unknownError) Error() string { return fmt.Sprintf("unknown front-end %q", string(e)) }

func errUnknown(name string) error { return unknownError(name) }

// Frontend returns a snapshot of front-end name.
func (s *Server) Frontend(name string) (FrontendState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.advance()
	f, ok := s.fes[name]
	if !ok {
		return FrontendState{}, false
	}
	return s.snapshot(f, now), true
}

// Frontends returns a snapshot of every front-end, in the order given to New.
func (s *Server) Frontends() []FrontendState {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.advance()
	out := make([]FrontendState, 0, len(s.order))
	for _, name := range s.order {
		out = append(out, s.snapshot(s.fes[name], now))
	}
	return out
}

// Broken lists the front-ends that hold components built for a newer
// platform than they run, in the order given to New.
func (s *Server) Broken() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	var out []string
	for _, name := range s.order {
		if s.fes[name].broken {
			out = append(out, name)
		}
	}
	return out
}

// History returns everything that happened, oldest first.
func (s *Server) History() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	return slices.Clone(s.history)
}

// Version is the environment's platform version.
func (s *Server) Version() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version
}

// advance completes the deployments whose time is up and returns now.
func (s *Server) advance() time.Time {
	now := s.opts.Now()
	for _, name := range s.order {
		f := s.fes[name]
		if f.target != "" && !now.Before(f.started.Add(s.opts.DeployTime)) {
			f.apps, f.target = f.target, ""
			s.record(f.started.Add(s.opts.DeployTime), name, Deployed, "deployed "+f.apps+" components")
		}
	}
	return now
}

// maybeDeploy starts a deployment when Service Center has components the
// front-end lacks and is allowed to send them.
func (s *Server) maybeDeploy(f *frontend, now time.Time) {
	if s.version == "" || !f.enabled || !f.running || f.target != "" || f.apps == s.version {
		return
	}
	f.target, f.started = s.version, now
	s.record(now, f.name, Deploying, "deploying "+s.version+" components")
	if compareVersions(f.platform, s.version) < 0 && !f.broken {
		f.broken = true
		s.record(now, f.name, Broke, "BROKEN: "+s.version+" components deployed to a front-end running platform "+f.platform)
	}
}

func (f *frontend) newest() string {
	if f.target != "" && compareVersions(f.target, f.apps) > 0 {
		return f.target
	}
	return f.apps
}

func (s *Server) snapshot(f *frontend, now time.Time) FrontendState {
	return FrontendState{
		Name:              f.name,
		PlatformVersion:   f.platform,
		AppsVersion:       f.apps,
		DeploymentEnabled: f.enabled,
		DeployerRunning:   f.running,
		Deploying:         f.target != "",
		Broken:            f.broken,
		Threads:           s.threads(f, now),
	}
}

// threads staggers the end of a deployment over the threads, so a poller
// sees them fall asleep one by one ("5/8 threads sleeping").
func (s *Server) threads(f *frontend, now time.Time) []Thread {
	if !f.running {
		return nil
	}
	n := s.opts.Threads
	out := make([]Thread, n)
	for i := range out {
		out[i] = Thread{ID: i + 1, Status: Sleeping}
		if f.target != "" && now.Before(f.started.Add(s.opts.DeployTime*time.Duration(i+1)/time.Duration(n))) {
			out[i].Status = Working
		}
	}
	return out
}

func (s *Server) record(at time.Time, fe string, kind EventKind, what string) {
	e := Event{At: at, Frontend: fe, Kind: kind, What: what}
	s.history = append(s.history, e)
	if s.opts.OnEvent != nil {
		s.opts.OnEvent(e)
	}
}

// compareVersions compares dotted versions numerically part by part
// ("11.9" < "11.10"); non-numeric parts compare as strings.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		x, y := "0", "0" // 11.31 is 11.31.0
		if i < len(as) {
			x = as[i]
		}
		if i < len(bs) {
			y = bs[i]
		}
		xn, xerr := strconv.Atoi(x)
		yn, yerr := strconv.Atoi(y)
		switch {
		case xerr == nil && yerr == nil:
			if c := xn - yn; c != 0 {
				if c < 0 {
					return -1
				}
				return 1
			}
		case x != y:
			return strings.Compare(x, y)
		}
	}
	return 0
}

// String summarises the front-end for the lab's verdict, e.g.
// "fe03: platform 11.31.0, components 11.31.0, deployment enabled, 8/8 threads sleeping".
func (f FrontendState) String() string {
	deployment := "disabled"
	if f.DeploymentEnabled {
		deployment = "enabled"
	}
	threads := "Deployment Service stopped"
	if f.DeployerRunning {
		asleep := 0
		for _, t := range f.Threads {
			if t.Status == Sleeping {
				asleep++
			}
		}
		threads = fmt.Sprintf("%d/%d threads sleeping", asleep, len(f.Threads))
	}
	s := fmt.Sprintf("%s: platform %s, components %s, deployment %s, %s", f.Name, f.PlatformVersion, f.AppsVersion, deployment, threads)
	if f.Broken {
		s += ", BROKEN"
	}
	return s
}
