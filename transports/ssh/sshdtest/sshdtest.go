package sshdtest

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Path is where Debian's openssh-server installs sshd.
const Path = "/usr/sbin/sshd"

// Config adjusts the generated sshd_config.
type Config struct {
	// Extra lines, placed first: sshd keeps the first value of a keyword.
	Extra string
	// Ports is how many ports sshd listens on (default 1), so one sshd can
	// stand for several hosts.
	Ports int
	// NoSFTP leaves out the sftp subsystem, like a hardened host.
	NoSFTP bool
	// User is the account clients log in as; empty means the current
	// user. sshd reads authorized_keys as that user, so the files are
	// made readable to it.
	User string
}

// Server is a running sshd.
type Server struct {
	Addr    string   // the first address
	Addrs   []string // one per port
	HostKey ssh.PublicKey
	KeyFile string // private key authorised for User
	User    string
	Dir     string // holds keys, config and authorized_keys

	mu  sync.Mutex
	log strings.Builder
}

// Require skips the test when sshd is missing, except in CI, where it fails.
func Require(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(Path); err == nil {
		return
	}
	msg := "!!! " + Path + " not found: the tests against a real OpenSSH server did NOT run; install openssh-server !!!"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// WriteKey writes a new unencrypted ed25519 key in OpenSSH format.
func WriteKey(t testing.TB, path string) ssh.PublicKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "osrun test")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Start starts sshd -D; it is killed when the test ends.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	Require(t)
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	// Privilege separation directory, which Debian creates at boot only.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatalf("create /run/sshd: %v", err)
	}
	if cfg.Ports <= 0 {
		cfg.Ports = 1
	}
	dir := t.TempDir()
	hostKeyFile := filepath.Join(dir, "host_ed25519")
	hostPub := WriteKey(t, hostKeyFile)
	keyFile := filepath.Join(dir, "id_ed25519")
	clientPub := WriteKey(t, keyFile)
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(clientPub), 0o600); err != nil {
		t.Fatal(err)
	}
	// Free ports: bind, read, release. If another process takes one in
	// between, sshd reports the failed bind and we try again.
	for attempt := 0; attempt < 5; attempt++ {
		var addrs []string
		var ls []net.Listener
		var ports strings.Builder
		for i := 0; i < cfg.Ports; i++ {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ls = append(ls, l)
			addrs = append(addrs, l.Addr().String())
			_, p, _ := net.SplitHostPort(l.Addr().String())
			fmt.Fprintf(&ports, "Port %s\n", p)
		}
		conf := filepath.Join(dir, "sshd_config")
		text := fmt.Sprintf(`%s
%sListenAddress 127.0.0.1
HostKey %s
PidFile %s
AuthorizedKeysFile %s
StrictModes no
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
AllowTcpForwarding yes
MaxSessions 100
MaxStartups 200
LogLevel INFO
%s`, cfg.Extra, ports.String(), hostKeyFile, filepath.Join(dir, "sshd.pid"), filepath.Join(dir, "authorized_keys"), sftpLine(cfg.NoSFTP))
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		s := &Server{Addr: addrs[0], Addrs: addrs, HostKey: hostPub, KeyFile: keyFile, User: u.Username, Dir: dir}
		if cfg.User != "" {
			s.User = cfg.User
			for p := dir; p != "/" && p != os.TempDir(); p = filepath.Dir(p) {
				os.Chmod(p, 0o755)
			}
			os.Chmod(filepath.Join(dir, "authorized_keys"), 0o644)
		}
		for _, l := range ls {
			l.Close()
		}
		if s.start(t, conf) {
			return s
		}
	}
	t.Fatal("sshd did not start after 5 attempts")
	return nil
}

// start runs sshd and waits for it to report listening, or to exit.
func (s *Server) start(t testing.TB, conf string) bool {
	cmd := exec.Command(Path, "-D", "-e", "-f", conf)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	want := len(s.Addrs)
	listening := make(chan bool, 1)
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		sc := bufio.NewScanner(stderr)
		n, sent := 0, false
		for sc.Scan() {
			s.mu.Lock()
			s.log.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if strings.Contains(sc.Text(), "Server listening on") {
				n++
				if n == want && !sent {
					listening <- true
					sent = true
				}
			}
		}
		if !sent {
			listening <- false
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case ok := <-listening:
		if !ok {
			cmd.Wait()
			<-logged
			t.Logf("sshd failed to start:\n%s", s.Log())
			return false
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("sshd did not report listening:\n%s", s.Log())
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		<-logged
	})
	return true
}

// Log is what sshd wrote so far.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

func sftpLine(off bool) string {
	if off {
		return ""
	}
	return "Subsystem sftp internal-sftp\n"
}

// TempUser creates a local account with login shell /bin/sh and a home
// directory in a temporary directory, and deletes it when the test ends.
// It skips the test unless running as root with useradd available.
func TempUser(t testing.TB, name string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a test user")
	}
	if _, err := os.Stat("/usr/sbin/useradd"); err != nil {
		t.Skip("useradd missing")
	}
	exec.Command("/usr/sbin/userdel", "-f", "-r", name).Run() // left by a killed run
	home := filepath.Join(t.TempDir(), "home")
	if out, err := exec.Command("/usr/sbin/useradd", "-m", "-d", home, "-s", "/bin/sh", name).CombinedOutput(); err != nil {
		t.Skipf("useradd %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() { exec.Command("/usr/sbin/userdel", "-f", "-r", name).Run() })
	// An account without a password is locked, and sshd (without PAM)
	// refuses locked accounts even for public keys: give it a random one.
	pw := make([]byte, 18)
	rand.Read(pw)
	cp := exec.Command("/usr/sbin/chpasswd")
	cp.Stdin = strings.NewReader(fmt.Sprintf("%s:%x\n", name, pw))
	if out, err := cp.CombinedOutput(); err != nil {
		t.Fatalf("chpasswd: %v: %s", err, out)
	}
	return name
}
