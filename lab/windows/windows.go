package windows

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/osrun/osrun/modules/hostscript"
	"github.com/osrun/osrun/transports/winrm/winrmtest"
)

// Platform is what the host's programs do to the rest of the farm. Calls
// come from the command's goroutine, one at a time per host, never with
// the host's lock held.
type Platform interface {
	// InstallStarted: the installer stopped IIS and the OutSystems services.
	InstallStarted(host string)
	// Installed: the installer finished and the host runs version.
	Installed(host, version string)
	// Configured: the Configuration Tool succeeded; environment is true
	// with /UpgradeEnvironment (the controller republished the platform).
	Configured(host, version string, environment bool)
	// DeployerRunning: the Deployment Service started or stopped.
	DeployerRunning(host string, running bool)
}

// Service names, as the SCM knows them.
const (
	Deployer   = "OutSystems Deployment Service"
	Controller = "OutSystems Deployment Controller Service"
	Scheduler  = "OutSystems Scheduler Service"
	LogService = "OutSystems Log Service"
	SMS        = "OutSystems SMS Connector Service"
)

// DefaultInstallDir is the registry's (Default) value after a default install.
const DefaultInstallDir = `C:\Program Files\OutSystems\Platform Server\`

const (
	installerLog = `C:\Users\Administrator\AppData\Local\OutSystems\PlatformInstaller\PlatformInstaller.log`
	toolLog      = `C:\Windows\Temp\ConfigurationTool.log`
)

// Config describes one simulated Windows front-end.
type Config struct {
	// Name is the front-end's name, passed to Platform.
	Name string
	// Version is the installed Platform Server version; "" when none is.
	Version string
	// InstallDir is the registry's (Default) value; DefaultInstallDir when empty.
	InstallDir string
	// InstallTime is how long PlatformServer-*.exe runs; 300ms when zero.
	InstallTime time.Duration
	// Controller says the Deployment Controller Service is installed here.
	Controller bool
	// User and Password are the credentials the endpoint accepts;
	// user "Administrator" when empty. Password is required.
	User, Password string
	// Platform receives the effects; nil drops them.
	Platform Platform
	// Addr and TLS, when set, put the endpoint on Addr (host:port) behind
	// TLS with this configuration (the farm's CA, a certificate naming
	// the host's own address); otherwise winrmtest serves HTTPS on a free
	// port of 127.0.0.1 with its own CA (CAPEM).
	Addr string
	TLS  *tls.Config
}

// Host is one running simulated Windows front-end.
type Host struct {
	cfg   Config
	srv   *winrmtest.Server
	fs    *winrmtest.Host
	front *front // the TLS face on Config.Addr, if any
	port  int

	mu          sync.Mutex
	version     string
	services    map[string]*service
	installExit int    // next installer exit code; 0 succeeds
	installMsg  string // its log line
	toolExit    int
	installs    int
	installing  bool // an installer runs (dotnet_state reports its process)
}

type service struct {
	status  string // Running, Stopped, StartPending, StopPending
	startup string // Automatic, Manual, Disabled
	pending int    // status reads left before a pending state settles
}

// Start starts the endpoint on a free loopback port, over HTTPS signed by
// its own CA (CAPEM), accepting NTLM (the inventory's default, what
// Windows domains use) and Basic (safe inside TLS).
func Start(cfg Config) (*Host, error) {
	if cfg.Name == "" || cfg.Password == "" {
		return nil, errors.New("windows host: name and password are required")
	}
	if cfg.InstallDir == "" {
		cfg.InstallDir = DefaultInstallDir
	}
	if cfg.InstallTime <= 0 {
		cfg.InstallTime = 300 * time.Millisecond
	}
	h := &Host{cfg: cfg, version: cfg.Version, fs: winrmtest.NewHost(), services: map[string]*service{}}
	for _, n := range []string{Deployer, Scheduler, LogService, SMS} {
		h.services[n] = &service{status: "Running", startup: "Automatic"}
	}
	if cfg.Controller {
		h.services[Controller] = &service{status: "Running", startup: "Automatic"}
	}
	h.fs.HandleMatch(func(script string) bool {
		id := hostscript.ID(script)
		return strings.HasPrefix(id, "installer/") || strings.HasPrefix(id, "service/") || id == "preflight/probe"
	}, h.run)
	behind := cfg.Addr != "" && cfg.TLS != nil
	srv, err := winrmtest.Start(winrmtest.Options{
		HTTP:     behind,
		Auth:     []string{winrmtest.AuthNTLM, winrmtest.AuthBasic},
		User:     cfg.User,
		Password: cfg.Password,
		Handler:  h.fs,
	})
	if err != nil {
		return nil, fmt.Errorf("windows host %s: %w", cfg.Name, err)
	}
	h.srv, h.port = srv, srv.Port
	if behind {
		if err := h.serveFront(); err != nil {
			srv.Close()
			return nil, fmt.Errorf("windows host %s: %w", cfg.Name, err)
		}
	}
	return h, nil
}

// serveFront terminates TLS on Config.Addr and passes each connection on
// to winrmtest over a loopback connection of its own. One back-end
// connection per client connection, as a real endpoint has: NTLM
// authenticates a connection, so a pool shared between clients (an HTTP
// reverse proxy's) would let a client with a wrong password ride on
// another's login.
func (h *Host) serveFront() error {
	ln, err := net.Listen("tcp", h.cfg.Addr)
	if err != nil {
		return err
	}
	h.front = &front{ln: ln, backend: net.JoinHostPort(h.srv.Host, strconv.Itoa(h.srv.Port)), conns: map[net.Conn]bool{}}
	h.port = ln.Addr().(*net.TCPAddr).Port
	go h.front.serve(tls.NewListener(ln, h.cfg.TLS))
	return nil
}

// front relays TLS-terminated connections to the plain HTTP back end.
type front struct {
	ln      net.Listener
	backend string
	mu      sync.Mutex
	conns   map[net.Conn]bool
	closed  bool
}

func (f *front) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go f.relay(c)
	}
}

// relay copies one client connection to a back-end connection of its own
// and back, until either side closes.
func (f *front) relay(c net.Conn) {
	b, err := net.Dial("tcp", f.backend)
	if err != nil {
		c.Close()
		return
	}
	if !f.track(c, b) {
		return
	}
	done := make(chan struct{})
	go func() {
		io.Copy(b, c)
		b.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	io.Copy(c, b)
	c.Close()
	<-done
	b.Close()
	f.mu.Lock()
	delete(f.conns, c)
	delete(f.conns, b)
	f.mu.Unlock()
}

// track registers the pair for Close; false (both closed) when it ran.
func (f *front) track(c, b net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		c.Close()
		b.Close()
		return false
	}
	f.conns[c], f.conns[b] = true, true
	return true
}

func (f *front) close() {
	f.ln.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for c := range f.conns {
		c.Close()
	}
}

// Name returns the front-end's name.
func (h *Host) Name() string { return h.cfg.Name }

// Port returns the WinRM port (on Config.Addr's address, or 127.0.0.1).
func (h *Host) Port() int { return h.port }

// User returns the account the endpoint accepts.
func (h *Host) User() string { return h.srv.User }

// CAPEM returns the CA certificate that signed the endpoint's certificate,
// when the endpoint is not behind Config.TLS.
func (h *Host) CAPEM() []byte { return h.srv.CAPEM }

// Close stops the endpoint, terminating running commands.
func (h *Host) Close() {
	if h.front != nil {
		h.front.close()
	}
	h.srv.Close()
}

// Version returns the registry's installed version.
func (h *Host) Version() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.version
}

// Installs counts the installer runs.
func (h *Host) Installs() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.installs
}

// Service returns a service's status and startup type; ok is false when
// it is not installed.
func (h *Host) Service(name string) (status, startup string, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.services[name]
	if !ok {
		return "", "", false
	}
	return s.status, s.startup, true
}

// FailInstaller makes every later installer run exit with code, leaving
// msg in the PlatformInstaller log; code 0 makes it succeed again.
func (h *Host) FailInstaller(code int, msg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.installExit, h.installMsg = code, msg
}

// FailConfigurationTool makes the Configuration Tool exit with code.
func (h *Host) FailConfigurationTool(code int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.toolExit = code
}

// Files lists the paths on the host's disk (lower-cased).
func (h *Host) Files() []string { return h.fs.Files() }

var psVar = regexp.MustCompile(`(?m)^\$(\w+) = '((?:[^']|'')*)'\r?$`)

// vars reads the $Name = '...' inputs at the top of a module script.
func vars(script string) map[string]string {
	m := map[string]string{}
	for _, v := range psVar.FindAllStringSubmatch(script, -1) {
		m[v[1]] = strings.ReplaceAll(v[2], "''", "'")
	}
	return m
}

var (
	setMarker  = regexp.MustCompile(`Set-Content -LiteralPath \$Marker -Value '((?:[^']|'')*)'`)
	setStartup = regexp.MustCompile(`Set-Service -Name \$Name -StartupType '(\w+)'`)
	declared   = regexp.MustCompile(`(?m)^version=(\S+)`)
)

// run answers one module script; the rest is winrmtest's.
func (h *Host) run(ctx context.Context, script string, stdin io.Reader, stdout, stderr io.Writer) int {
	v := vars(script)
	switch hostscript.ID(script) {
	case "installer/dotnet_state":
		// In the script's order, each read on its own, as PowerShell
		// does them: an installer may end between two of them.
		h.mu.Lock()
		installing, n := h.installing, h.installs
		h.mu.Unlock()
		if installing && v["Running"] != "" {
			fmt.Fprintf(stdout, "osrun-running=%d\r\n", installerPID+n)
		}
		h.mu.Lock()
		version := h.version
		h.mu.Unlock()
		if version != "" {
			fmt.Fprintf(stdout, "osrun-version=%s\r\nosrun-install-dir=%s\r\n", version, h.cfg.InstallDir)
		}
		if p := h.file(v["Marker"]); p != "" {
			fmt.Fprintf(stdout, "osrun-pending=%s\r\n", firstLine(p))
		}
		return 0
	case "installer/dotnet_prepare":
		return 0
	case "installer/dotnet_install":
		return h.install(ctx, script, v, stdout, stderr)
	case "installer/dotnet_configure":
		return h.configure(script, v, stdin, stdout, stderr)
	case "installer/dotnet_logtail":
		path := toolLog
		if strings.Contains(script, "PlatformInstaller") {
			path = installerLog
		}
		log := h.file(path)
		if log == "" {
			fmt.Fprintf(stdout, "no log matches %s\r\n", path)
			return 0
		}
		fmt.Fprintf(stdout, "==> %s <==\r\n", path)
		lines := strings.Split(strings.TrimRight(log, "\r\n"), "\n")
		if len(lines) > 40 {
			lines = lines[len(lines)-40:]
		}
		for _, l := range lines {
			fmt.Fprintf(stdout, "%s\r\n", strings.TrimRight(l, "\r"))
		}
		return 0
	case "installer/dotnet_fetch":
		fmt.Fprint(stderr, winrmtest.CLIXMLError("the lab's hosts have no network share: upload the installer with source"))
		return 1
	case "preflight/probe":
		fmt.Fprint(stdout, "osrun-preflight\r\n")
		return 0
	case "service/windows_status":
		return h.status(v["Name"], stdout)
	case "service/windows_set":
		return h.set(script, v["Name"], stderr)
	}
	fmt.Fprint(stderr, winrmtest.CLIXMLError("the lab's Windows host does not know "+hostscript.ID(script)))
	return 1
}

// file returns a file's content; a file emptied by a removal counts as absent.
func (h *Host) file(path string) string {
	b, _ := h.fs.ReadFile(path)
	return string(b)
}

func (h *Host) remove(path string) { h.fs.WriteFile(path, nil) }

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(l)
}

// installerPID is the first process id the simulated installers get.
const installerPID = 4200

// install plays dotnet_install.ps1 with PlatformServer-*.exe.
func (h *Host) install(ctx context.Context, script string, v map[string]string, stdout, stderr io.Writer) int {
	exe := h.file(v["Installer"])
	if exe == "" {
		fmt.Fprint(stderr, winrmtest.CLIXMLError("This command cannot be run due to the error: The system cannot find the file specified."))
		return 1
	}
	m := setMarker.FindStringSubmatch(script)
	if m == nil {
		fmt.Fprint(stderr, winrmtest.CLIXMLError("the install script sets no marker"))
		return 1
	}
	target := strings.ReplaceAll(m[1], "''", "'")
	h.fs.WriteFile(v["Marker"], []byte(target+"\r\n"))
	if d := declared.FindStringSubmatch(exe); d != nil {
		target = d[1]
	}
	fmt.Fprintf(stdout, "running %s /S\r\n", v["Installer"])

	h.mu.Lock()
	h.installs++
	h.installing = true
	code, msg := h.installExit, h.installMsg
	wasRunning := h.stopAllLocked()
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.installing = false
		h.mu.Unlock()
	}()
	if p := h.cfg.Platform; p != nil {
		if wasRunning {
			p.DeployerRunning(h.cfg.Name, false)
		}
		p.InstallStarted(h.cfg.Name)
	}
	t := time.NewTimer(h.cfg.InstallTime)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		// Terminated from outside: the installer dies half-way, its
		// services stopped, as a killed setup leaves a real server.
		return 1
	}
	if code != 0 {
		h.fs.WriteFile(installerLog, []byte(fmt.Sprintf("Upgrading OutSystems Platform Server to %s\r\n%s\r\nInstallation failed (exit code %d)\r\n", target, msg, code)))
		fmt.Fprintf(stdout, "osrun-installer-exit=%d\r\n", code)
		return 0
	}
	h.fs.WriteFile(installerLog, []byte(fmt.Sprintf("Upgrading OutSystems Platform Server to %s\r\nInstallation finished\r\n", target)))
	h.mu.Lock()
	h.version = target
	h.mu.Unlock()
	if p := h.cfg.Platform; p != nil {
		p.Installed(h.cfg.Name, target)
	}
	fmt.Fprint(stdout, "osrun-installer-exit=0\r\n")
	return 0
}

// stopAllLocked stops every OutSystems service, as the installer does, and
// reports whether the Deployment Service was running.
func (h *Host) stopAllLocked() bool {
	d := h.services[Deployer]
	was := d != nil && d.status != "Stopped"
	for _, s := range h.services {
		s.status, s.pending = "Stopped", 0
	}
	return was
}

// configure plays dotnet_configure.ps1 with ConfigurationTool.com.
func (h *Host) configure(script string, v map[string]string, stdin io.Reader, stdout, stderr io.Writer) int {
	if strings.Contains(script, "[Console]::In.ReadLine()") {
		line, _ := readLine(stdin)
		if line == "" {
			fmt.Fprint(stderr, winrmtest.CLIXMLError("no admin password on stdin"))
			return 1
		}
	}
	if !strings.EqualFold(strings.TrimRight(v["InstallDir"], `\`), strings.TrimRight(h.cfg.InstallDir, `\`)) {
		fmt.Fprint(stderr, winrmtest.CLIXMLError(fmt.Sprintf("Set-Location : Cannot find path '%s' because it does not exist.", v["InstallDir"])))
		return 1
	}
	environment := strings.Contains(script, "'/UpgradeEnvironment'")
	fmt.Fprint(stdout, "Upgrading installation...\r\n")
	h.mu.Lock()
	code, version := h.toolExit, h.version
	h.mu.Unlock()
	if code != 0 {
		h.fs.WriteFile(toolLog, []byte("ERROR Login failed for user 'OSADMIN'\r\n"))
		fmt.Fprint(stdout, "Error upgrading the database model\r\n")
		return code
	}
	if environment {
		fmt.Fprint(stdout, "Upgrading the environment: Service Center and System Components...\r\n")
	}
	h.fs.WriteFile(toolLog, []byte("Configuration finished\r\n"))
	// The Configuration Tool restarts the OutSystems services it needs.
	h.mu.Lock()
	started := false
	for n, s := range h.services {
		if s.startup != "Disabled" && s.status != "Running" {
			s.status, s.pending = "Running", 0
			started = started || n == Deployer
		}
	}
	h.mu.Unlock()
	h.remove(v["Marker"])
	h.remove(v["Installer"])
	if p := h.cfg.Platform; p != nil {
		if started {
			p.DeployerRunning(h.cfg.Name, true)
		}
		p.Configured(h.cfg.Name, version, environment)
	}
	fmt.Fprint(stdout, "osrun-configured=ok\r\n")
	return 0
}

func readLine(r io.Reader) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for {
		n, err := r.Read(one)
		if n == 1 {
			if one[0] == '\n' {
				return strings.TrimRight(string(b), "\r"), nil
			}
			b = append(b, one[0])
		}
		if err != nil {
			return string(b), err
		}
	}
}

// status plays windows_status.ps1; a pending state settles after a read.
func (h *Host) status(name string, stdout io.Writer) int {
	h.mu.Lock()
	s, ok := h.services[name]
	if !ok {
		h.mu.Unlock()
		fmt.Fprint(stdout, "osrun-status=Missing\r\n")
		return 0
	}
	shown := s.status
	settled := ""
	switch {
	case s.pending > 0:
		s.pending--
	case s.status == "StartPending":
		s.status, settled, shown = "Running", "Running", "Running"
	case s.status == "StopPending":
		s.status, settled, shown = "Stopped", "Stopped", "Stopped"
	}
	startup := s.startup
	h.mu.Unlock()
	if p := h.cfg.Platform; p != nil && name == Deployer && settled != "" {
		p.DeployerRunning(h.cfg.Name, settled == "Running")
	}
	fmt.Fprintf(stdout, "osrun-name=%s\r\nosrun-status=%s\r\nosrun-startup=%s\r\n", name, shown, startup)
	return 0
}

// set plays windows_set.ps1: start, stop (both return at once) or startup.
func (h *Host) set(script, name string, stderr io.Writer) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.services[name]
	if !ok {
		fmt.Fprint(stderr, winrmtest.CLIXMLError(fmt.Sprintf("Cannot find any service with service name '%s'.", name)))
		return 1
	}
	switch {
	case strings.Contains(script, ").Start()"):
		if s.startup == "Disabled" {
			fmt.Fprint(stderr, winrmtest.CLIXMLError(fmt.Sprintf("Exception calling \"Start\" with \"0\" argument(s): \"Cannot start service %s on computer '.'.\"", name)))
			return 1
		}
		if s.status != "Running" {
			s.status, s.pending = "StartPending", 1
		}
	case strings.Contains(script, "Stop-Service -Name $Name"):
		if s.status != "Stopped" {
			s.status, s.pending = "StopPending", 1
		}
	default:
		m := setStartup.FindStringSubmatch(script)
		if m == nil {
			fmt.Fprint(stderr, winrmtest.CLIXMLError("the lab's Windows host does not know this service change"))
			return 1
		}
		s.startup = strings.ToUpper(m[1][:1]) + strings.ToLower(m[1][1:])
	}
	return 0
}
