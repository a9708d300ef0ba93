package ssh

import (
	"bufio"
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

const sshdPath = "/usr/sbin/sshd"

// sshd is a real OpenSSH server started for one test.
type sshd struct {
	addr    string
	hostKey ssh.PublicKey
	keyFile string // client key it authorises
	user    string
	dir     string

	mu  sync.Mutex
	log strings.Builder
}

type sshdConfig struct {
	extra string // more sshd_config lines
}

// requireSSHD skips when sshd is missing, except in CI where it fails.
func requireSSHD(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(sshdPath); err == nil {
		return
	}
	msg := "!!! " + sshdPath + " not found: the tests against a real OpenSSH server did NOT run; install openssh-server !!!"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// startSSHD starts sshd -D on 127.0.0.1 with generated keys; it is killed
// when the test ends.
func startSSHD(t *testing.T, cfg sshdConfig) *sshd {
	t.Helper()
	requireSSHD(t)
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	// Privilege separation directory, which Debian creates at boot only.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatalf("create /run/sshd: %v", err)
	}
	dir := t.TempDir()
	hostKeyFile, hostPub := writeClientKey(t, dir, "host_ed25519", formatOpenSSH, "")
	keyFile, clientPub := writeClientKey(t, dir, "id_ed25519", formatOpenSSH, "")
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(clientPub), 0o600); err != nil {
		t.Fatal(err)
	}
	// A free port: bind, read it, release. sshd reports a failed bind on
	// stderr and the loop tries another port.
	for attempt := 0; attempt < 5; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		_, port, _ := net.SplitHostPort(addr)
		conf := filepath.Join(dir, "sshd_config")
		// sshd keeps the first value of a keyword, so extra lines go first.
		text := fmt.Sprintf(`%s
Port %s
ListenAddress 127.0.0.1
HostKey %s
PidFile %s
AuthorizedKeysFile %s
StrictModes no
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowTcpForwarding yes
MaxSessions 50
MaxStartups 100
LogLevel INFO
Subsystem sftp internal-sftp
`, cfg.extra, port, hostKeyFile, filepath.Join(dir, "sshd.pid"), filepath.Join(dir, "authorized_keys"))
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		d := &sshd{addr: addr, hostKey: hostPub, keyFile: keyFile, user: u.Username, dir: dir}
		if d.start(t, conf) {
			return d
		}
	}
	t.Fatal("sshd did not start after 5 attempts")
	return nil
}

// start runs sshd and waits for "Server listening", or its exit.
func (d *sshd) start(t *testing.T, conf string) bool {
	cmd := exec.Command(sshdPath, "-D", "-e", "-f", conf)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	listening := make(chan bool, 1)
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			d.mu.Lock()
			d.log.WriteString(sc.Text() + "\n")
			d.mu.Unlock()
			if !sent && strings.Contains(sc.Text(), "Server listening on") {
				listening <- true
				sent = true
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
			t.Logf("sshd failed to start:\n%s", d.logText())
			return false
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("sshd did not report listening:\n%s", d.logText())
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		<-logged
	})
	return true
}

func (d *sshd) logText() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.String()
}

func (d *sshd) fixture(t *testing.T, name string) fixture {
	return hostFor(t, d.dir, name, d.addr, d.hostKey, d.keyFile, d.user)
}
