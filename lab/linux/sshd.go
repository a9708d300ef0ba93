package linux

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSHDPath is where Debian's openssh-server installs sshd.
const SSHDPath = "/usr/sbin/sshd"

// sshdProcess is a real OpenSSH sshd serving one simulated host. Its
// ForceCommand (bin/lab-exec in the sandbox) maps the paths, runs the
// command with /bin/sh and hands each command to the host before and after
// it runs through files in state/hooks, which a goroutine here plays (the
// same effects as the in-process server) and removes; lab-exec waits for
// that, so the effects are in place when the command's exit status leaves.
type sshdProcess struct {
	cmd    *exec.Cmd
	exited chan struct{}
	stop   chan struct{}
	hooks  sync.WaitGroup
	log    bytes.Buffer // sshd's stderr, guarded by logMu
	logMu  sync.Mutex
}

func (p *sshdProcess) Write(b []byte) (int, error) {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	if p.log.Len() < 1<<20 {
		p.log.Write(b)
	}
	return len(b), nil
}

func (p *sshdProcess) logText() string {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	return p.log.String()
}

// StartSSHD is Start with a real OpenSSH sshd (at path, SSHDPath when
// empty) in place of the in-process server. sshd runs as the current user
// and cfg.User must be that user, since sshd logs users in for real.
// cfg.HostKey is ignored: sshd gets a new key of its own.
func StartSSHD(cfg Config, path string) (*Host, error) {
	if path == "" {
		path = SSHDPath
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	if cfg.HostKey, err = ssh.NewSignerFromKey(priv); err != nil {
		return nil, err
	}
	h, err := newHost(cfg)
	if err != nil {
		return nil, err
	}
	state := h.path("state")
	block, err := ssh.MarshalPrivateKey(priv, "osrun lab host "+cfg.Name)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(state, "ssh_host_ed25519_key"), pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(state, "authorized_keys"), ssh.MarshalAuthorizedKey(cfg.Authorized), 0o600); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(state, "hooks"), 0o755); err != nil {
		return nil, err
	}
	wrapper, err := sandboxFS.ReadFile("sandbox/lab-exec")
	if err != nil {
		return nil, err
	}
	wrapper = bytes.ReplaceAll(wrapper, []byte("__SANDBOX__"), []byte(cfg.Dir))
	if err := os.WriteFile(h.path("bin/lab-exec"), wrapper, 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return nil, fmt.Errorf("sshd's privilege separation directory: %w", err)
	}
	var lastErr error
	for range 5 {
		// sshd needs a port number: take a free one and hand it over.
		l, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return nil, err
		}
		h.addr = l.Addr().(*net.TCPAddr)
		l.Close()
		if lastErr = h.startSSHD(path); lastErr == nil {
			return h, nil
		}
	}
	return nil, fmt.Errorf("linux host %s: sshd: %w", cfg.Name, lastErr)
}

func (h *Host) startSSHD(path string) error {
	state := h.path("state")
	conf := filepath.Join(state, "sshd_config")
	text := fmt.Sprintf(`# The lab's sshd for %s.
ListenAddress %s
HostKey %s
PidFile none
AuthorizedKeysFile %s
AllowUsers %s
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
MaxSessions 100
MaxStartups 100
ForceCommand %s
LogLevel ERROR
`, h.cfg.Name, h.addr, filepath.Join(state, "ssh_host_ed25519_key"), filepath.Join(state, "authorized_keys"), h.cfg.User, h.path("bin/lab-exec"))
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return err
	}
	p := &sshdProcess{exited: make(chan struct{}), stop: make(chan struct{})}
	p.cmd = exec.Command(path, "-D", "-e", "-f", conf)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	// Never outlive the lab, even when a test binary is killed.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return err
	}
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	// Listening once a TCP connection gets through; a bounded wait.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", h.addr.String(), time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-p.exited:
			return fmt.Errorf("exited at start: %s", strings.TrimSpace(p.logText()))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.cmd.Process.Kill()
			<-p.exited
			return errors.New("not listening after 10s")
		}
	}
	h.sshd = p
	p.hooks.Add(1)
	go h.playHooks(p)
	return nil
}

// playHooks plays the commands lab-exec hands over, until the host closes.
func (h *Host) playHooks(p *sshdProcess) {
	defer p.hooks.Done()
	dir := h.path("state/hooks")
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			name := e.Name()
			phase := filepath.Ext(name)
			if phase != ".before" && phase != ".after" {
				continue // a file lab-exec is still writing
			}
			file := filepath.Join(dir, name)
			b, err := os.ReadFile(file)
			if err != nil {
				continue
			}
			text := string(b)
			if phase == ".before" {
				h.record(text)
				h.before(scriptID(text))
			} else {
				line, command, _ := strings.Cut(text, "\n")
				status, _ := strconv.Atoi(strings.TrimSpace(line))
				h.after(scriptID(command), command, status)
			}
			os.Remove(file)
		}
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
	}
}

func (h *Host) record(command string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.commands = append(h.commands, command)
}

func (p *sshdProcess) close() error {
	p.cmd.Process.Kill()
	<-p.exited
	close(p.stop)
	p.hooks.Wait()
	return nil
}
