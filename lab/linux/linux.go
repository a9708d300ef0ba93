package linux

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// Platform is what the host's programs do to the rest of the farm. Calls
// come from the goroutine serving the command, never with the host's lock
// held.
type Platform interface {
	// InstallStarted: the installer stopped the application server.
	InstallStarted(host string)
	// Installed: the installer finished and the host runs version.
	Installed(host, version string)
	// Configured: configurationtool.sh succeeded; environment is true with
	// /scinstall (the controller republished the platform).
	Configured(host, version string, environment bool)
	// DeployerRunning: the Deployment Service started or stopped.
	DeployerRunning(host string, running bool)
}

// The paths the module scripts use, mapped into the sandbox.
const (
	Home    = "/opt/outsystems/platform"
	Staging = "/var/tmp/osrun"
)

//go:embed sandbox
var sandboxFS embed.FS

// Config describes one simulated J2EE front-end.
type Config struct {
	// Name is the front-end's name, passed to Platform.
	Name string
	// Version is the installed Platform Server version (version.txt).
	Version string
	// Dir is the sandbox; it must exist, be empty, and hold no quote.
	Dir string
	// User is the account name the server accepts.
	User string
	// Authorized is the client key the server accepts.
	Authorized ssh.PublicKey
	// HostKey is the server's key; a fresh ed25519 key when nil.
	HostKey ssh.Signer
	// Platform receives the effects; nil drops them.
	Platform Platform
	// Addr is where the SSH server listens; a free port on 127.0.0.1
	// when empty.
	Addr string
}

// Host is one running simulated J2EE front-end.
type Host struct {
	cfg     Config
	l       net.Listener // the in-process server's, or nil
	sshd    *sshdProcess // the real sshd, or nil
	addr    *net.TCPAddr // where either listens
	hostKey ssh.Signer
	wg      sync.WaitGroup

	mu       sync.Mutex
	conns    map[net.Conn]bool
	closed   bool
	deployer bool // last DEPLOYER state reported
	commands []string
}

// Start prepares the sandbox and listens on a free loopback port.
func Start(cfg Config) (*Host, error) {
	h, err := newHost(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("linux host %s: %w", cfg.Name, err)
	}
	h.l, h.addr = l, l.Addr().(*net.TCPAddr)
	sc := &ssh.ServerConfig{
		PublicKeyCallback: func(m ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if m.User() == cfg.User && bytes.Equal(k.Marshal(), cfg.Authorized.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("key not authorized")
		},
	}
	sc.AddHostKey(h.hostKey)
	h.wg.Add(1)
	go h.accept(sc)
	return h, nil
}

// newHost checks cfg and prepares the sandbox.
func newHost(cfg Config) (*Host, error) {
	switch {
	case cfg.Name == "" || cfg.User == "" || cfg.Authorized == nil:
		return nil, errors.New("linux host: name, user and authorized key are required")
	case !filepath.IsAbs(cfg.Dir) || strings.ContainsAny(cfg.Dir, "'\"\\$` \n#"):
		return nil, fmt.Errorf("linux host %s: sandbox %q must be an absolute path without quotes, spaces, # or $", cfg.Name, cfg.Dir)
	}
	if cfg.HostKey == nil {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		if cfg.HostKey, err = ssh.NewSignerFromKey(priv); err != nil {
			return nil, err
		}
	}
	h := &Host{cfg: cfg, hostKey: cfg.HostKey, conns: map[net.Conn]bool{}, deployer: true}
	if err := h.prepare(); err != nil {
		return nil, fmt.Errorf("linux host %s: sandbox: %w", cfg.Name, err)
	}
	return h, nil
}

// prepare lays out the sandbox: programs, OUTSYSTEMS_HOME, service states.
func (h *Host) prepare() error {
	home := h.path(Home)
	for _, d := range []string{"bin", "state/services", strings.TrimPrefix(Staging, "/"), strings.TrimPrefix(Home, "/") + "/logs"} {
		if err := os.MkdirAll(filepath.Join(h.cfg.Dir, d), 0o755); err != nil {
			return err
		}
	}
	files := map[string]string{
		"bin/service": "sandbox/service",
		"bin/sudo":    "sandbox/sudo",
		home[len(h.cfg.Dir):] + "/configurationtool.sh": "sandbox/configurationtool.sh",
	}
	for dst, src := range files {
		b, err := sandboxFS.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(h.cfg.Dir, dst), b, 0o755); err != nil {
			return err
		}
	}
	if h.cfg.Version != "" {
		if err := os.WriteFile(filepath.Join(home, "version.txt"), []byte(h.cfg.Version+"\n"), 0o644); err != nil {
			return err
		}
	}
	for _, sub := range []string{"DEPLOYER", "CONTROLLER", "SCHEDULER"} {
		if err := h.setService(sub, "RUNNING"); err != nil {
			return err
		}
	}
	return nil
}

// path maps a host path into the sandbox.
func (h *Host) path(p string) string { return filepath.Join(h.cfg.Dir, p) }

func (h *Host) setService(sub, state string) error {
	return os.WriteFile(h.path("state/services/outsystems."+sub), []byte(state+"\n"), 0o644)
}

// InstallerScript is the lab's J2EE installer, for the installer module's
// script argument: it takes install seconds and then writes OSRUN_VERSION
// to version.txt.
func InstallerScript(install time.Duration) []byte {
	b, err := sandboxFS.ReadFile("sandbox/installer.sh")
	if err != nil {
		panic(err) // embedded
	}
	secs := strconv.FormatFloat(install.Seconds(), 'f', 3, 64)
	return bytes.ReplaceAll(b, []byte("INSTALL_SECONDS"), []byte(secs))
}

// Name returns the front-end's name.
func (h *Host) Name() string { return h.cfg.Name }

// Addr returns host:port.
func (h *Host) Addr() string { return h.addr.String() }

// Port returns the port the server listens on.
func (h *Host) Port() int { return h.addr.Port }

// HostKey returns the server's public key.
func (h *Host) HostKey() ssh.PublicKey { return h.hostKey.PublicKey() }

// KnownHostsLine is the host's line for a known_hosts file.
func (h *Host) KnownHostsLine() string {
	return fmt.Sprintf("[%s]:%d %s", h.addr.IP, h.addr.Port, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(h.HostKey()))))
}

// Dir returns the sandbox.
func (h *Host) Dir() string { return h.cfg.Dir }

// Version returns the first line of version.txt.
func (h *Host) Version() string {
	b, _ := os.ReadFile(h.path(Home + "/version.txt"))
	l, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(l)
}

// Service returns the state file of an outsystems sub-service
// (DEPLOYER, CONTROLLER, SCHEDULER): RUNNING, STOPPED, STARTING:n...
func (h *Host) Service(sub string) string {
	b, _ := os.ReadFile(h.path("state/services/outsystems." + sub))
	return strings.TrimSpace(string(b))
}

// Installs counts the runs of the lab's installer (InstallerScript) that
// started: a command that was sent but never got to run the installer
// (its client died first) does not count.
func (h *Host) Installs() int {
	b, _ := os.ReadFile(h.path("state/installs"))
	return strings.Count(string(b), "\n")
}

// FailInstaller makes later installer runs fail with msg; "" lets them
// succeed again.
func (h *Host) FailInstaller(msg string) error {
	p := h.path("state/install.fail")
	if msg == "" {
		return os.Remove(p)
	}
	return os.WriteFile(p, []byte(msg+"\n"), 0o644)
}

// FailConfigurationTool makes configurationtool.sh exit with code.
func (h *Host) FailConfigurationTool(code int) error {
	return os.WriteFile(h.path("state/configtool.exit"), []byte(strconv.Itoa(code)+"\n"), 0o644)
}

// Trace returns what the host saw of each session, one line per event
// (the time, what happened, the module script's id), then each installer
// start (the lab installer's line in state/installs: version, time,
// process ids), for explaining a failed test.
func (h *Host) Trace() string {
	sessions, _ := os.ReadFile(h.path("state/trace"))
	installs, _ := os.ReadFile(h.path("state/installs"))
	return string(sessions) + "installer starts:\n" + string(installs)
}

// trace appends one line to the host's trace.
func (h *Host) trace(what, id, detail string) {
	line := fmt.Sprintf("%s %-7s %s %s\n", time.Now().Format("15:04:05.000000"), what, id, detail)
	h.mu.Lock()
	defer h.mu.Unlock()
	f, err := os.OpenFile(h.path("state/trace"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	f.WriteString(line)
	f.Close()
}

// Commands returns the command lines received, before the path mapping.
func (h *Host) Commands() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.commands...)
}

// Close stops the server, drops every connection and waits for the
// commands to finish.
func (h *Host) Close() error {
	if h.sshd != nil {
		return h.sshd.close()
	}
	h.mu.Lock()
	h.closed = true
	for c := range h.conns {
		c.Close()
	}
	h.mu.Unlock()
	err := h.l.Close()
	h.wg.Wait()
	return err
}

func (h *Host) accept(sc *ssh.ServerConfig) {
	defer h.wg.Done()
	for {
		nc, err := h.l.Accept()
		if err != nil {
			return
		}
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			nc.Close()
			return
		}
		h.conns[nc] = true
		h.wg.Add(1)
		h.mu.Unlock()
		go func() {
			defer h.wg.Done()
			h.serve(nc, sc)
			h.mu.Lock()
			delete(h.conns, nc)
			h.mu.Unlock()
		}()
	}
}

func (h *Host) serve(nc net.Conn, cfg *ssh.ServerConfig) {
	defer nc.Close()
	conn, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		return
	}
	defer conn.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		// keepalive@openssh.com and the like: answer no, as sshd does
		// for requests it does not know.
		for r := range reqs {
			if r.WantReply {
				r.Reply(false, nil)
			}
		}
	}()
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.session(ch, creqs)
		}()
	}
}

var signalNumbers = map[string]syscall.Signal{"HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "TERM": 15, "USR1": 10, "USR2": 12}

// session runs one "exec" request with /bin/sh in a new session, as sshd
// does (so $$ is the process group the transport kills on cancellation).
func (h *Host) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	var cmd *exec.Cmd
	exited := make(chan struct{})
	for r := range reqs {
		switch r.Type {
		case "exec":
			var m struct{ Command string }
			if cmd != nil || ssh.Unmarshal(r.Payload, &m) != nil {
				r.Reply(false, nil)
				continue
			}
			h.mu.Lock()
			h.commands = append(h.commands, m.Command)
			h.mu.Unlock()
			id := scriptID(m.Command)
			h.trace("exec", id, "")
			h.before(id)
			cmd = exec.Command("/bin/sh", "-c", h.mapPaths(m.Command))
			cmd.Dir = h.cfg.Dir
			cmd.Env = []string{
				"PATH=" + h.path("bin") + ":/usr/local/bin:/usr/bin:/bin",
				"HOME=" + h.cfg.Dir,
				"SANDBOX=" + h.cfg.Dir,
				"OUTSYSTEMS_HOME=" + h.path(Home),
				"LC_ALL=C",
				"USER=" + h.cfg.User,
			}
			cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
			stdin, err := cmd.StdinPipe()
			if err == nil {
				err = cmd.Start()
			}
			if err != nil {
				r.Reply(false, nil)
				cmd = nil
				continue
			}
			r.Reply(true, nil)
			h.trace("started", id, fmt.Sprintf("pid %d", cmd.Process.Pid))
			go func() {
				io.Copy(stdin, ch)
				stdin.Close()
			}()
			go func() {
				err := cmd.Wait()
				status := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					status = ee.ExitCode()
					if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
						status = 128 + int(ws.Signal())
					}
				}
				h.trace("exited", id, fmt.Sprintf("pid %d status %d", cmd.Process.Pid, status))
				h.after(id, m.Command, status)
				b := make([]byte, 4)
				binary.BigEndian.PutUint32(b, uint32(status))
				ch.SendRequest("exit-status", false, b)
				close(exited)
				ch.Close()
			}()
		case "signal":
			var m struct{ Signal string }
			ssh.Unmarshal(r.Payload, &m)
			if n, ok := signalNumbers[m.Signal]; ok && cmd != nil && cmd.Process != nil {
				cmd.Process.Signal(n)
			}
			if r.WantReply {
				r.Reply(true, nil)
			}
		default:
			if r.WantReply {
				r.Reply(false, nil)
			}
		}
	}
	// The client closed the channel: like sshd, leave the process alone
	// and let it finish.
	h.trace("closed", "", "")
	if cmd != nil {
		<-exited
	}
}

var idLine = regexp.MustCompile(`# osrun:([a-z0-9_]+/[a-z0-9_]+)`)

// scriptID finds the module script's id inside the transport's wrapping.
func scriptID(command string) string {
	if m := idLine.FindStringSubmatch(command); m != nil {
		return m[1]
	}
	return ""
}

// mapPaths points the module scripts' absolute paths into the sandbox.
func (h *Host) mapPaths(command string) string {
	for _, p := range []string{Home, Staging} {
		command = strings.ReplaceAll(command, p, h.path(p))
	}
	return command
}

// before plays what happens as a command starts.
func (h *Host) before(id string) {
	if id != "installer/j2ee_install" {
		return
	}
	// The installer stops the application server and the platform's
	// services before it touches anything.
	for _, sub := range []string{"DEPLOYER", "CONTROLLER", "SCHEDULER"} {
		if h.Service(sub) != "" {
			h.setService(sub, "STOPPED")
		}
	}
	h.syncDeployer()
	if p := h.cfg.Platform; p != nil {
		p.InstallStarted(h.cfg.Name)
	}
}

// after plays what a finished command did.
func (h *Host) after(id, command string, status int) {
	switch {
	case id == "installer/j2ee_install" && status == 0:
		if p := h.cfg.Platform; p != nil {
			p.Installed(h.cfg.Name, h.Version())
		}
	case id == "installer/j2ee_configure" && status == 0:
		for _, sub := range []string{"DEPLOYER", "CONTROLLER", "SCHEDULER"} {
			if s := h.Service(sub); s != "" && s != "DISABLED" {
				h.setService(sub, "RUNNING")
			}
		}
		h.syncDeployer()
		if p := h.cfg.Platform; p != nil {
			p.Configured(h.cfg.Name, h.Version(), strings.Contains(command, "/scinstall"))
		}
	}
	h.syncDeployer()
}

// syncDeployer reports a change of the DEPLOYER state file.
func (h *Host) syncDeployer() {
	running := h.Service("DEPLOYER") == "RUNNING"
	h.mu.Lock()
	changed := running != h.deployer
	h.deployer = running
	h.mu.Unlock()
	if p := h.cfg.Platform; changed && p != nil {
		p.DeployerRunning(h.cfg.Name, running)
	}
}
