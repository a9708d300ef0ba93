package ssh

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/transports"
	"github.com/osrun/osrun/transports/transporttest"
)

var noAgent = new(bool)

// fixture is a server plus a host entry and options that reach it.
type fixture struct {
	host *inventory.Host
	opts Options
	dir  string
}

// hostFor describes a server listening on addr, trusted through a
// known_hosts file written in dir, authenticated with key.
func hostFor(t testing.TB, dir, name, addr string, hostKey ssh.PublicKey, keyFile, user string) fixture {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	kh := filepath.Join(dir, "known_hosts")
	f, err := os.OpenFile(kh, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if hostKey != nil {
		f.WriteString(knownhosts.Line([]string{knownhosts.Normalize(addr)}, hostKey) + "\n")
	}
	f.Close()
	return fixture{
		dir: dir,
		host: &inventory.Host{
			Name:    name,
			Address: host,
			SSH: inventory.SSHSettings{
				Port: p, User: user, PrivateKey: keyFile, KnownHosts: []string{kh}, UseAgent: noAgent,
			},
		},
		opts: Options{Warn: func(msg string) { t.Logf("warning: %s", msg) }},
	}
}

func (f fixture) dial(t *testing.T) *Conn {
	t.Helper()
	c, err := Dial(t.Context(), f.host, f.opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// inProcess starts an in-process server and a fixture for it.
func inProcess(t *testing.T, sc serverConfig) (*testServer, fixture) {
	t.Helper()
	dir := t.TempDir()
	keyFile, pub := writeClientKey(t, dir, "id_ed25519", formatOpenSSH, "")
	if sc.authorized == nil {
		sc.authorized = pub
	}
	s := startTestServer(t, sc)
	return s, hostFor(t, dir, "fe-inproc", s.addr, s.hostKey.PublicKey(), keyFile, "tester")
}

func TestConformanceInProcess(t *testing.T) {
	_, f := inProcess(t, serverConfig{})
	// Through Dialer, as the runner opens connections.
	d := Dialer{Options: f.opts}
	transporttest.Run(t, func(t *testing.T) transports.Conn {
		c, err := d.Dial(t.Context(), f.host)
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	})
}

func TestConformanceOpenSSH(t *testing.T) {
	d := startSSHD(t, sshdConfig{})
	f := d.fixture(t, "fe-openssh")
	transporttest.Run(t, func(t *testing.T) transports.Conn { return f.dial(t) })
}

// TestUploadWithoutSFTPOpenSSH: the upload tests again on a server without
// the SFTP subsystem (the in-process server has none either).
func TestUploadWithoutSFTPOpenSSH(t *testing.T) {
	d := startSSHD(t, sshdConfig{NoSFTP: true})
	f := d.fixture(t, "fe-nosftp")
	transporttest.RunUpload(t, func(t *testing.T) transports.Conn { return f.dial(t) })
}
