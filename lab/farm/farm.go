package farm

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/osrun/osrun/lab/appserver"
	"github.com/osrun/osrun/lab/lb"
	"github.com/osrun/osrun/lab/linux"
	"github.com/osrun/osrun/lab/servicecenter"
	"github.com/osrun/osrun/lab/traffic"
	"github.com/osrun/osrun/lab/windows"
	"github.com/osrun/osrun/transports/winrm/winrmtest"
)

// Mix says which stacks the front-ends run.
type Mix string

const (
	// Alternate gives .NET and J2EE front-ends in turn, starting with a
	// .NET controller, so both sets of every zone mix the stacks.
	Alternate Mix = "alternate"
	DotNet    Mix = "dotnet"
	J2EE      Mix = "j2ee"
)

// Config sizes and paces the farm. Zero values take the defaults.
type Config struct {
	// Zones and FrontendsPerZone: 2 and 4. Every zone needs two
	// front-ends at least, one for each set of the balanced upgrade.
	Zones, FrontendsPerZone int
	Mix                     Mix
	// FromVersion is installed everywhere at the start (11.30.0);
	// ToVersion is what the lab's installers install (11.31.0).
	FromVersion, ToVersion string
	// Dir receives the inventory, secrets and installers and the J2EE
	// hosts' sandboxes; a new temporary directory, removed by Close, when
	// empty.
	Dir string
	// InstallTime is how long an installer runs (300ms); DeployTime how
	// long Service Center deploys to one front-end (300ms).
	InstallTime, DeployTime time.Duration
	// CheckInterval is the balancer's health-check interval (50ms).
	CheckInterval time.Duration
	// Clients, RequestInterval, MaxRequests and MaxDuration bound the
	// load: 4 clients, each pausing 10ms between requests, at most 500000
	// requests and 10 minutes.
	Clients         int
	RequestInterval time.Duration
	MaxRequests     int
	MaxDuration     time.Duration
	// AppDelay is how long each application request works (2ms), so
	// requests are in flight when something goes wrong.
	AppDelay time.Duration
	// Balancer is "sim" (lab/lb, the default) or "haproxy" (the real
	// binary, found on PATH, watched by polling its runtime API).
	Balancer string
	// SSHD, when set, serves the J2EE front-ends with real OpenSSH sshd
	// processes (this path; linux.SSHDPath is Debian's) logging in the
	// current user, instead of the in-process SSH server.
	SSHD string
}

func (c *Config) defaults() error {
	setInt := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	setDur := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	setInt(&c.Zones, 2)
	setInt(&c.FrontendsPerZone, 4)
	setInt(&c.Clients, 4)
	setInt(&c.MaxRequests, 500000)
	setDur(&c.InstallTime, 300*time.Millisecond)
	setDur(&c.DeployTime, 300*time.Millisecond)
	setDur(&c.CheckInterval, 50*time.Millisecond)
	setDur(&c.RequestInterval, 10*time.Millisecond)
	setDur(&c.MaxDuration, 10*time.Minute)
	setDur(&c.AppDelay, 2*time.Millisecond)
	if c.Mix == "" {
		c.Mix = Alternate
	}
	if c.Balancer == "" {
		c.Balancer = "sim"
	}
	if c.FromVersion == "" {
		c.FromVersion = "11.30.0"
	}
	if c.ToVersion == "" {
		c.ToVersion = "11.31.0"
	}
	switch {
	case c.Balancer != "sim" && c.Balancer != "haproxy":
		return fmt.Errorf("balancer %q: want sim or haproxy", c.Balancer)
	case c.Mix != Alternate && c.Mix != DotNet && c.Mix != J2EE:
		return fmt.Errorf("mix %q: want alternate, dotnet or j2ee", c.Mix)
	case c.FrontendsPerZone < 2:
		return fmt.Errorf("%d front-ends per zone: every zone needs two at least (one updating, one loaded)", c.FrontendsPerZone)
	case c.Zones > 20 || c.Zones*c.FrontendsPerZone > 240:
		return fmt.Errorf("%d zones of %d front-ends: the lab holds 240 front-ends in 20 zones at most", c.Zones, c.FrontendsPerZone)
	}
	return nil
}

// Frontend is one simulated front-end: its application server and its host.
type Frontend struct {
	Name, Zone string
	// Stack is "dotnet" or "j2ee".
	Stack      string
	Controller bool
	// Address is the front-end's own loopback address.
	Address string
	App     *appserver.Server
	// Windows is set for .NET front-ends, Linux for J2EE ones.
	Windows *windows.Host
	Linux   *linux.Host
	before  string
}

// Installs is how many times an installer started on the front-end's
// host, whatever its stack: a resumed upgrade must not run one twice.
func (fe *Frontend) Installs() int {
	if fe.Windows != nil {
		return fe.Windows.Installs()
	}
	return fe.Linux.Installs()
}

// Trace is what the front-end's host recorded of the commands it ran and
// the installers it started (J2EE hosts; "" for Windows), for explaining
// a failed test.
func (fe *Frontend) Trace() string {
	if fe.Linux == nil {
		return ""
	}
	return fe.Linux.Trace()
}

// Version is the platform version the host has installed.
func (fe *Frontend) Version() string {
	if fe.Windows != nil {
		return fe.Windows.Version()
	}
	return fe.Linux.Version()
}

// Farm is a running lab farm.
type Farm struct {
	cfg     Config
	dir     string
	ownDir  bool
	fes     []*Frontend
	byName  map[string]*Frontend
	lb      balancer
	sc      *servicecenter.Server
	scURL   string
	scSrv   *http.Server
	mon     *traffic.Monitor
	load    *traffic.Generator
	vars    map[string]string
	inv     string
	sshUser string

	mu       sync.Mutex
	problems []string
	closers  []func()
	verdict  *Verdict
}

// Start builds the farm, writes its inventory and starts the load; ctx
// bounds the load (Close stops everything either way).
func Start(ctx context.Context, cfg Config) (*Farm, error) {
	if err := cfg.defaults(); err != nil {
		return nil, fmt.Errorf("lab farm: %w", err)
	}
	f := &Farm{cfg: cfg, byName: map[string]*Frontend{}, mon: traffic.NewMonitor(0)}
	if err := f.start(ctx); err != nil {
		f.Close()
		return nil, fmt.Errorf("lab farm: %w", err)
	}
	return f, nil
}

func (f *Farm) start(ctx context.Context) error {
	var err error
	if f.dir = f.cfg.Dir; f.dir == "" {
		if f.dir, err = os.MkdirTemp("", "osrun-lab-"); err != nil {
			return err
		}
		f.ownDir = true
	}
	if f.dir, err = filepath.Abs(f.dir); err != nil {
		return err
	}
	if err := f.startApps(); err != nil {
		return err
	}
	if err := f.startServiceCenter(); err != nil {
		return fmt.Errorf("service center: %w", err)
	}
	if err := f.startBalancer(); err != nil {
		return err
	}
	if err := f.startHosts(); err != nil {
		return err
	}
	if err := f.startLoad(ctx); err != nil {
		return fmt.Errorf("traffic: %w", err)
	}
	return nil
}

func (f *Farm) onClose(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closers = append(f.closers, fn)
}

// problem records something the lab itself got wrong (an application
// server that could not come back): it fails the verdict.
func (f *Farm) problem(format string, a ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.problems = append(f.problems, fmt.Sprintf(format, a...))
}

// subnet picks a random 127.x.y.0/24 for the farm's front-ends.
func subnet() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(150*256))
	if err != nil {
		return "", err
	}
	v := int(n.Int64())
	return fmt.Sprintf("127.%d.%d.", 100+v/256, v%256), nil
}

// startApps lays out the front-ends and starts their application servers,
// each on its own loopback address at port 80.
func (f *Farm) startApps() error {
	var lastErr error
	for range 5 {
		prefix, err := subnet()
		if err != nil {
			return err
		}
		err = f.startAppsOn(prefix)
		if err == nil {
			return nil
		}
		lastErr = err
		for _, fe := range f.fes {
			if fe.App != nil {
				fe.App.Close()
			}
		}
		f.fes, f.byName = nil, map[string]*Frontend{}
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	switch {
	case errors.Is(lastErr, syscall.EACCES):
		return fmt.Errorf("%w: the lab gives each front-end its own loopback address at port 80 (http_check addresses front-ends by address alone); run it as root or lower net.ipv4.ip_unprivileged_port_start to 80", lastErr)
	case errors.Is(lastErr, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("%w: the lab needs the whole 127.0.0.0/8 range on the loopback interface, as Linux has it", lastErr)
	}
	return lastErr
}

func (f *Farm) startAppsOn(prefix string) error {
	n := 0
	for z := 1; z <= f.cfg.Zones; z++ {
		for i := 0; i < f.cfg.FrontendsPerZone; i++ {
			stack := "dotnet"
			switch {
			case f.cfg.Mix == J2EE, f.cfg.Mix == Alternate && n%2 == 1:
				stack = "j2ee"
			}
			fe := &Frontend{
				Name:       fmt.Sprintf("fe%02d", n+1),
				Zone:       fmt.Sprintf("zone%d", z),
				Stack:      stack,
				Controller: n == 0,
				Address:    fmt.Sprintf("%s%d", prefix, 10+n),
				before:     f.cfg.FromVersion,
			}
			n++
			mode := appserver.Refuse // the J2EE application server's service is stopped
			if stack == "dotnet" {
				mode = appserver.Unavailable // HTTP.sys answers 503 for a stopped pool
			}
			app, err := appserver.StartAt(net.JoinHostPort(fe.Address, "80"), appserver.Config{
				Name: fe.Name, Version: f.cfg.FromVersion, DownMode: mode, Delay: f.cfg.AppDelay, OnChange: f.mon.AppState,
			})
			f.fes = append(f.fes, fe)
			f.byName[fe.Name] = fe
			if err != nil {
				return err
			}
			fe.App = app
		}
	}
	f.onClose(func() {
		for _, fe := range f.fes {
			fe.App.Close()
		}
	})
	return nil
}

func (f *Farm) startServiceCenter() error {
	token, err := randomHex(16)
	if err != nil {
		return err
	}
	var fes []servicecenter.Frontend
	for _, fe := range f.fes {
		fes = append(fes, servicecenter.Frontend{Name: fe.Name})
	}
	sc, err := servicecenter.New(servicecenter.Options{
		Version:    f.cfg.FromVersion,
		Threads:    4,
		DeployTime: f.cfg.DeployTime,
		Token:      token,
		OnEvent:    f.scEvent,
	}, fes...)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	f.sc, f.scURL = sc, "http://"+ln.Addr().String()
	f.scSrv = &http.Server{Handler: sc, ReadHeaderTimeout: 10 * time.Second}
	go f.scSrv.Serve(ln)
	f.onClose(func() { f.scSrv.Close() })
	return f.writeSecret("sc-token", token)
}

// scEvent makes a front-end Service Center broke fail its applications. It
// runs with Service Center locked, so it only touches application servers.
func (f *Farm) scEvent(e servicecenter.Event) {
	fe := f.byName[e.Frontend]
	if fe == nil || fe.App == nil {
		return
	}
	switch e.Kind {
	case servicecenter.Broke:
		fe.App.SetBroken(true)
	case servicecenter.Repaired:
		fe.App.SetBroken(false)
	}
}

func (f *Farm) startBalancer() error {
	var members []lb.MemberConfig
	for _, fe := range f.fes {
		ping := appserver.PingJava
		if fe.Stack == "dotnet" {
			ping = appserver.PingDotNet
		}
		members = append(members, lb.MemberConfig{Name: fe.Name, Addr: fe.App.Addr(), CheckPath: ping})
	}
	if f.cfg.Balancer == "haproxy" {
		h, err := f.startHAProxy(members)
		if err != nil {
			return err
		}
		f.lb = h
		f.onClose(func() { h.Close() })
		return nil
	}
	l, err := lb.New(lb.Config{
		Backend:       "outsystems",
		Members:       members,
		CheckInterval: f.cfg.CheckInterval,
		Rise:          2,
		Fall:          2,
		ServerTimeout: 10 * time.Second,
		OnEvent:       f.mon.LBEvent,
	})
	if err != nil {
		return err
	}
	f.lb = simLB{l}
	f.onClose(func() { l.Close() })
	return nil
}

// startHosts starts every front-end's host and writes what the inventory
// needs to reach them: the client key, known_hosts, the CA, the secrets.
func (f *Farm) startHosts() error {
	ca, err := winrmtest.NewAuthority()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(f.dir, "ca.pem"), ca.PEM(), 0o644); err != nil {
		return err
	}
	password, err := randomHex(16)
	if err != nil {
		return err
	}
	if err := f.writeSecret("winrm-password", password); err != nil {
		return err
	}
	authorized, err := f.writeClientKey()
	if err != nil {
		return err
	}
	// The in-process server accepts any name; sshd logs a real user in.
	f.sshUser = "osadmin"
	if f.cfg.SSHD != "" {
		u, err := user.Current()
		if err != nil {
			return err
		}
		f.sshUser = u.Username
	}
	var known []byte
	p := platform{f}
	for _, fe := range f.fes {
		if fe.Stack == "dotnet" {
			tlsCfg, err := ca.ServerTLS(net.ParseIP(fe.Address), fe.Name)
			if err != nil {
				return err
			}
			h, err := windows.Start(windows.Config{
				Name: fe.Name, Version: f.cfg.FromVersion, InstallTime: f.cfg.InstallTime, Controller: fe.Controller,
				User: "Administrator", Password: password, Platform: p,
				Addr: net.JoinHostPort(fe.Address, "0"), TLS: tlsCfg,
			})
			if err != nil {
				return err
			}
			fe.Windows = h
			f.onClose(h.Close)
			continue
		}
		box := filepath.Join(f.dir, "hosts", fe.Name)
		if err := os.MkdirAll(box, 0o755); err != nil {
			return err
		}
		lc := linux.Config{
			Name: fe.Name, Version: f.cfg.FromVersion, Dir: box, User: f.sshUser, Authorized: authorized,
			Platform: p, Addr: net.JoinHostPort(fe.Address, "0"),
		}
		var h *linux.Host
		if f.cfg.SSHD != "" {
			h, err = linux.StartSSHD(lc, f.cfg.SSHD)
		} else {
			h, err = linux.Start(lc)
		}
		if err != nil {
			return err
		}
		fe.Linux = h
		f.onClose(func() { h.Close() })
		known = append(known, h.KnownHostsLine()+"\n"...)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "known_hosts"), known, 0o644); err != nil {
		return err
	}
	if err := f.writeInstallers(); err != nil {
		return err
	}
	return f.writeInventory()
}

func (f *Farm) writeClientKey() (gossh.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	// No passphrase: OpenSSH's bcrypt KDF makes every dial slow, and the
	// key file is private to the farm's directory.
	block, err := gossh.MarshalPrivateKey(priv, "osrun lab")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(f.dir, "keys"), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(f.dir, "keys", "id_ed25519"), pemEncode(block), 0o600); err != nil {
		return nil, err
	}
	return gossh.NewPublicKey(pub)
}

func (f *Farm) writeSecret(name, value string) error {
	dir := filepath.Join(f.dir, "secrets")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name), []byte(value), 0o600)
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func (f *Farm) startLoad(ctx context.Context) error {
	g, err := traffic.Start(ctx, traffic.Config{
		URL:         f.lb.URL() + "/",
		Clients:     f.cfg.Clients,
		Interval:    f.cfg.RequestInterval,
		MaxRequests: f.cfg.MaxRequests,
		MaxDuration: f.cfg.MaxDuration,
		Timeout:     10 * time.Second,
		Monitor:     f.mon,
	})
	if err != nil {
		return err
	}
	f.load = g
	f.onClose(func() { g.Stop() })
	return nil
}

// Dir is the farm's directory.
func (f *Farm) Dir() string { return f.dir }

// Inventory is the path of the inventory the farm wrote.
func (f *Farm) Inventory() string { return f.inv }

// Vars are the playbook variables for playbooks/upgrade.hcl on this farm.
func (f *Farm) Vars() map[string]string {
	out := make(map[string]string, len(f.vars))
	for k, v := range f.vars {
		out[k] = v
	}
	return out
}

// Frontends returns the front-ends in inventory order.
func (f *Farm) Frontends() []*Frontend { return append([]*Frontend(nil), f.fes...) }

// Frontend returns one front-end, or nil.
func (f *Farm) Frontend(name string) *Frontend { return f.byName[name] }

// URL is the balancer's address, where the traffic goes.
func (f *Farm) URL() string { return f.lb.URL() }

// ServiceCenter returns the Service Center simulator.
func (f *Farm) ServiceCenter() *servicecenter.Server { return f.sc }

// Load returns the running load.
func (f *Farm) Load() *traffic.Generator { return f.load }

// Close stops everything, in the reverse order of starting, and removes
// the farm's directory if Start made it.
func (f *Farm) Close() error {
	f.mu.Lock()
	closers := f.closers
	f.closers = nil
	f.mu.Unlock()
	for i := len(closers) - 1; i >= 0; i-- {
		closers[i]()
	}
	if f.ownDir && f.dir != "" {
		return os.RemoveAll(f.dir)
	}
	return nil
}

// platform carries out, on the farm, what a host's programs did.
type platform struct{ f *Farm }

func (p platform) InstallStarted(host string) {
	if fe := p.f.byName[host]; fe != nil {
		fe.App.Down()
	}
}

func (p platform) Installed(host, version string) {
	fe := p.f.byName[host]
	if fe == nil {
		return
	}
	fe.App.SetVersion(version)
	if err := p.f.sc.FrontendUpgraded(host, version); err != nil {
		p.f.problem("service center: %v", err)
	}
	if err := fe.App.Up(); err != nil {
		p.f.problem("%v", err)
	}
}

func (p platform) Configured(host, version string, environment bool) {
	if environment {
		p.f.sc.PlatformUpgraded(version)
	}
}

func (p platform) DeployerRunning(host string, running bool) {
	if err := p.f.sc.SetDeployerRunning(host, running); err != nil {
		p.f.problem("service center: %v", err)
	}
}
