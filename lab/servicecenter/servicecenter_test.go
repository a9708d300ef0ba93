package servicecenter

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a fake clock the tests advance by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newServer(t *testing.T, c *clock, fes ...Frontend) *Server {
	t.Helper()
	s, err := New(Options{Version: "11.29.1", Threads: 4, DeployTime: 4 * time.Second, Now: c.Now}, fes...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func statuses(t *testing.T, s *Server, name string) string {
	t.Helper()
	f, ok := s.Frontend(name)
	if !ok {
		t.Fatalf("front-end %s missing", name)
	}
	var b strings.Builder
	for _, th := range f.Threads {
		b.WriteByte(th.Status[0]) // S or W
	}
	return b.String()
}

func TestDeploysAfterPlatformUpgrade(t *testing.T) {
	c := newClock()
	s := newServer(t, c, Frontend{Name: "fe01"}, Frontend{Name: "fe02"})
	if got := statuses(t, s, "fe01"); got != "SSSS" {
		t.Fatalf("threads before = %s, want all sleeping", got)
	}
	for _, fe := range []string{"fe01", "fe02"} {
		if err := s.FrontendUpgraded(fe, "11.31.0"); err != nil {
			t.Fatal(err)
		}
	}
	s.PlatformUpgraded("11.31.0")
	steps := []struct {
		after time.Duration
		want  string
	}{
		{0, "WWWW"},
		{time.Second, "SWWW"},
		{2 * time.Second, "SSSW"},
		{time.Second, "SSSS"},
	}
	for _, st := range steps {
		c.Advance(st.after)
		if got := statuses(t, s, "fe02"); got != st.want {
			t.Fatalf("threads after +%v = %s, want %s", st.after, got, st.want)
		}
	}
	f, _ := s.Frontend("fe02")
	if f.AppsVersion != "11.31.0" || f.Deploying || f.Broken {
		t.Errorf("after deployment: %+v, want 11.31.0 components, idle, healthy", f)
	}
	if b := s.Broken(); len(b) != 0 {
		t.Errorf("Broken() = %v, want none", b)
	}
}

// The balanced procedure's reason for disabling deployment on loaded
// front-ends: new components on an old platform break it.
func TestWrongOrderBreaksTheFrontend(t *testing.T) {
	c := newClock()
	var events []Event
	s, err := New(Options{Version: "11.29.1", Threads: 4, DeployTime: 4 * time.Second, Now: c.Now,
		OnEvent: func(e Event) { events = append(events, e) }},
		Frontend{Name: "ctl"}, Frontend{Name: "loaded"}, Frontend{Name: "guarded"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetDeployment("guarded", false); err != nil {
		t.Fatal(err)
	}
	if err := s.FrontendUpgraded("ctl", "11.31.0"); err != nil {
		t.Fatal(err)
	}
	s.PlatformUpgraded("11.31.0")
	if got, want := s.Broken(), []string{"loaded"}; !slices.Equal(got, want) {
		t.Fatalf("Broken() = %v, want %v", got, want)
	}
	c.Advance(time.Second)
	f, _ := s.Frontend("loaded")
	if got, want := f.String(), "loaded: platform 11.29.1, components 11.29.1, deployment enabled, 1/4 threads sleeping, BROKEN"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	g, _ := s.Frontend("guarded")
	if got, want := g.String(), "guarded: platform 11.29.1, components 11.29.1, deployment disabled, 4/4 threads sleeping"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	c.Advance(time.Minute)
	if got := s.Broken(); !slices.Equal(got, []string{"loaded"}) {
		t.Fatalf("Broken() after the deployment = %v, want it to stay broken", got)
	}
	if err := s.FrontendUpgraded("loaded", "11.31.0"); err != nil {
		t.Fatal(err)
	}
	if got := s.Broken(); len(got) != 0 {
		t.Fatalf("Broken() after upgrading its platform = %v, want repaired", got)
	}
	if g, _ := s.Frontend("guarded"); g.AppsVersion != "11.29.1" || g.Deploying {
		t.Errorf("deployment-disabled front-end received components: %+v", g)
	}
	var sawBroken bool
	for _, e := range s.History() {
		sawBroken = sawBroken || e.Frontend == "loaded" && e.Kind == Broke
	}
	if !sawBroken {
		t.Errorf("history does not record the breakage: %v", s.History())
	}
	if h := s.History(); !slices.Equal(events, h) {
		t.Errorf("OnEvent saw %v\nhistory is %v", events, h)
	}
}

func TestLoadedFrontendFollowsTheGuide(t *testing.T) {
	c := newClock()
	s := newServer(t, c, Frontend{Name: "ctl"}, Frontend{Name: "fe02", DeploymentDisabled: true})
	s.FrontendUpgraded("ctl", "11.31.0")
	s.PlatformUpgraded("11.31.0")
	c.Advance(time.Minute)
	// Loaded front-end: installer stops the deployer, upgrades the platform.
	s.SetDeployerRunning("fe02", false)
	s.FrontendUpgraded("fe02", "11.31.0")
	if f, _ := s.Frontend("fe02"); f.Deploying || len(f.Threads) != 0 {
		t.Fatalf("deploying with deployment disabled and service stopped: %+v", f)
	}
	s.SetDeployment("fe02", true)
	if f, _ := s.Frontend("fe02"); f.Deploying {
		t.Fatalf("deploying while the Deployment Service is stopped: %+v", f)
	}
	s.SetDeployerRunning("fe02", true)
	if got := statuses(t, s, "fe02"); got != "WWWW" {
		t.Fatalf("threads once the service runs = %s, want all working", got)
	}
	c.Advance(4 * time.Second)
	f, _ := s.Frontend("fe02")
	if f.AppsVersion != "11.31.0" || f.Broken || statuses(t, s, "fe02") != "SSSS" {
		t.Errorf("end state %+v, want 11.31.0 components, healthy, all sleeping", f)
	}
}

func TestStoppingTheServiceAbortsADeployment(t *testing.T) {
	c := newClock()
	s := newServer(t, c, Frontend{Name: "fe01"})
	s.FrontendUpgraded("fe01", "11.31.0")
	s.PlatformUpgraded("11.31.0")
	c.Advance(time.Second)
	s.SetDeployerRunning("fe01", false)
	c.Advance(time.Minute)
	if f, _ := s.Frontend("fe01"); f.AppsVersion != "11.29.1" || f.Deploying {
		t.Fatalf("after abort: %+v, want old components, idle", f)
	}
	s.SetDeployerRunning("fe01", true)
	if f, _ := s.Frontend("fe01"); !f.Deploying {
		t.Fatalf("restarted service did not resume the deployment: %+v", f)
	}
}

func TestNewRejects(t *testing.T) {
	for name, fes := range map[string][]Frontend{
		"duplicate": {{Name: "a"}, {Name: "a"}},
		"unnamed":   {{}},
	} {
		if _, err := New(Options{}, fes...); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	s, _ := New(Options{})
	for name, err := range map[string]error{
		"FrontendUpgraded":   s.FrontendUpgraded("x", "1"),
		"SetDeployerRunning": s.SetDeployerRunning("x", true),
		"SetDeployment":      s.SetDeployment("x", true),
	} {
		if err == nil || !strings.Contains(err.Error(), `unknown front-end "x"`) {
			t.Errorf("%s on an unknown front-end = %v", name, err)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"11.29.1", "11.31.0", -1},
		{"11.31.0", "11.31", 0},
		{"11.9", "11.10", -1},
		{"11.31.0", "11.29.1", 1},
		{"11.31.0-rc", "11.31.0-beta", 1},
	}
	for _, tt := range tests {
		if got := compareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
