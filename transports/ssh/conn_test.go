package ssh

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/transports"
)

// TestJumpHost reaches one real sshd through another.
func TestJumpHost(t *testing.T) {
	jump := startSSHD(t, sshdConfig{Extra: "LogLevel DEBUG1"})
	target := startSSHD(t, sshdConfig{})
	f := target.fixture(t, "fe01")
	// The target's key file works on the jump too: both authorise the
	// key each generated, so give the jump its own key explicitly.
	jh, jp, _ := net.SplitHostPort(jump.addr)
	port, _ := strconv.Atoi(jp)
	f.host.SSH.Jump = []inventory.JumpHost{{Address: jh, Port: port, PrivateKey: jump.keyFile}}
	kh := f.host.SSH.KnownHosts[0]

	t.Run("unknown jump host key refused", func(t *testing.T) {
		_, err := Dial(t.Context(), f.host, f.opts)
		if err == nil || !strings.Contains(err.Error(), "via jump host 1 "+jump.addr) || !strings.Contains(err.Error(), "host key unknown") {
			t.Fatalf("Dial = %v, want the jump host's key refused", err)
		}
	})
	fh, err := os.OpenFile(kh, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString(knownhosts.Line([]string{knownhosts.Normalize(jump.addr)}, jump.HostKey) + "\n")
	fh.Close()

	t.Run("through the jump", func(t *testing.T) {
		c := f.dial(t)
		var out bytes.Buffer
		if err := c.Run(t.Context(), &transports.Cmd{Command: "echo on target", Stdout: &out}); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if out.String() != "on target\n" {
			t.Errorf("stdout %q", out.String())
		}
		_, tp, _ := net.SplitHostPort(target.addr)
		if log := jump.logText(); !strings.Contains(log, "direct-tcpip") || !strings.Contains(log, "port "+tp) {
			t.Errorf("the jump sshd did not forward to the target port %s; its log:\n%s", tp, log)
		}
	})
}

// TestTwoJumpHosts chains two bastions.
func TestTwoJumpHosts(t *testing.T) {
	j1, j2 := startSSHD(t, sshdConfig{}), startSSHD(t, sshdConfig{})
	target := startSSHD(t, sshdConfig{})
	f := target.fixture(t, "fe01")
	kh := f.host.SSH.KnownHosts[0]
	fh, err := os.OpenFile(kh, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range []*sshd{j1, j2} {
		jh, jp, _ := net.SplitHostPort(j.addr)
		port, _ := strconv.Atoi(jp)
		f.host.SSH.Jump = append(f.host.SSH.Jump, inventory.JumpHost{Address: jh, Port: port, PrivateKey: j.keyFile})
		fh.WriteString(knownhosts.Line([]string{knownhosts.Normalize(j.addr)}, j.HostKey) + "\n")
	}
	fh.Close()
	c := f.dial(t)
	var out bytes.Buffer
	if err := c.Run(t.Context(), &transports.Cmd{Command: "echo hop hop", Stdout: &out}); err != nil || out.String() != "hop hop\n" {
		t.Fatalf("Run = %v, stdout %q", err, out.String())
	}
	if len(c.clients) != 3 {
		t.Errorf("%d SSH connections in the chain, want 3", len(c.clients))
	}
}

// TestConnectionLostOpenSSH: the sshd serving the connection dies
// mid-command; Run reports ErrConnectionLost, and the next Run reconnects.
func TestConnectionLostOpenSSH(t *testing.T) {
	d := startSSHD(t, sshdConfig{})
	c := d.fixture(t, "fe01").dial(t)
	// $PPID of the login shell is the sshd process of this connection.
	err := c.Run(t.Context(), &transports.Cmd{Command: "kill -9 $PPID; sleep 5"})
	if !errors.Is(err, transports.ErrConnectionLost) {
		t.Fatalf("Run = %v, want ErrConnectionLost", err)
	}
	var ee *transports.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("Run = %v: a lost connection must not look like an exit status", err)
	}
	var out bytes.Buffer
	if err := c.Run(t.Context(), &transports.Cmd{Command: "echo again", Stdout: &out}); err != nil {
		t.Fatalf("Run after reconnect: %v", err)
	}
	if out.String() != "again\n" {
		t.Errorf("stdout %q", out.String())
	}
}

// TestReconnectBetweenCommands: the network drops while idle; the next
// command reconnects once and runs exactly once.
func TestReconnectBetweenCommands(t *testing.T) {
	s, f := inProcess(t, serverConfig{})
	c := f.dial(t)
	if err := c.Run(t.Context(), &transports.Cmd{Command: "true"}); err != nil {
		t.Fatal(err)
	}
	s.dropAll()
	var out bytes.Buffer
	if err := c.Run(t.Context(), &transports.Cmd{Command: "echo once", Stdout: &out}); err != nil {
		t.Fatalf("Run after the connection dropped: %v", err)
	}
	if out.String() != "once\n" {
		t.Errorf("stdout %q", out.String())
	}
	n := 0
	for _, e := range s.execs() {
		if strings.Contains(e, "echo once") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("command sent %d times, want once", n)
	}
}

// TestDialTimeout: a server that accepts TCP but never speaks SSH.
func TestDialTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		l.Close()
		for c := range accepted {
			c.Close()
		}
	})
	f := hostFor(t, t.TempDir(), "fe01", l.Addr().String(), nil, "", "tester")
	f.host.SSH.Password = secretFor("pw")

	t.Run("dial timeout", func(t *testing.T) {
		f.host.SSH.DialTimeout = 200 * time.Millisecond
		start := time.Now()
		_, err := Dial(t.Context(), f.host, f.opts)
		if !errors.Is(err, transports.ErrUnreachable) || !strings.Contains(err.Error(), "dial timeout") {
			t.Fatalf("Dial = %v, want an unreachable error naming the dial timeout", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("Dial took %v", d)
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		f.host.SSH.DialTimeout = time.Hour
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			_, err := Dial(ctx, f.host, f.opts)
			done <- err
		}()
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, transports.ErrUnreachable) || !errors.Is(err, context.Canceled) {
				t.Fatalf("Dial = %v, want unreachable and context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Dial ignored the cancelled context")
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		l2, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := l2.Addr().(*net.TCPAddr)
		l2.Close()
		f2 := hostFor(t, t.TempDir(), "fe02", addr.String(), nil, "", "tester")
		f2.host.SSH.Password = secretFor("pw")
		_, err := Dial(t.Context(), f2.host, f2.opts)
		if !errors.Is(err, transports.ErrUnreachable) || !strings.HasPrefix(err.Error(), "ssh fe02 ("+addr.String()+"): connect:") {
			t.Fatalf("Dial = %v", err)
		}
	})
}

func TestCommandTimeout(t *testing.T) {
	_, f := inProcess(t, serverConfig{})
	f.host.SSH.CommandTimeout = 300 * time.Millisecond
	c := f.dial(t)
	err := c.Run(t.Context(), &transports.Cmd{Command: "sleep 30"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v, want DeadlineExceeded", err)
	}
}

func TestExitBySignal(t *testing.T) {
	_, f := inProcess(t, serverConfig{})
	c := f.dial(t)
	err := c.Run(t.Context(), &transports.Cmd{Command: "kill -TERM $$"})
	var ee *transports.ExitError
	if !errors.As(err, &ee) || ee.Status != 128+15 {
		t.Fatalf("Run = %v, want exit status 143", err)
	}
}

var _ = ssh.SIGKILL

// TestKeepaliveDetectsHungServer: a server that stops answering keepalives
// gets its connection closed; the next command reconnects.
func TestKeepaliveDetectsHungServer(t *testing.T) {
	_, f := inProcess(t, serverConfig{ignoreGlobal: true})
	f.host.SSH.Keepalive = 20 * time.Millisecond
	c := f.dial(t)
	c.mu.Lock()
	dead := c.dead
	c.mu.Unlock()
	select {
	case <-dead:
	case <-time.After(10 * time.Second):
		t.Fatal("keepalive did not close a connection whose server never answers")
	}
	// The new connection would be closed the same way: no keepalive now.
	f.host.SSH.Keepalive = -1
	var out bytes.Buffer
	if err := c.Run(t.Context(), &transports.Cmd{Command: "echo back", Stdout: &out}); err != nil || out.String() != "back\n" {
		t.Fatalf("Run after keepalive failure = %v, stdout %q", err, out.String())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestFailingOutputWriter: a caller's writer that fails must not stall the
// remote command (its output is drained) and Run reports the failure.
func TestFailingOutputWriter(t *testing.T) {
	_, f := inProcess(t, serverConfig{})
	c := f.dial(t)
	// Far more than the channel window.
	err := c.Run(t.Context(), &transports.Cmd{Command: "head -c 20000000 /dev/zero", Stdout: failingWriter{}})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Run = %v, want the writer's error", err)
	}
}

// TestUploadRemoteDigestMismatch: when the host computes another digest
// than the one sent (here a lying openssl), the file is not installed.
func TestUploadRemoteDigestMismatch(t *testing.T) {
	bin := t.TempDir()
	liar := "#!/bin/sh\ncat >/dev/null; echo '" + strings.Repeat("0", 64) + " *stdin'\n"
	if err := os.WriteFile(bin+"/openssl", []byte(liar), 0o755); err != nil {
		t.Fatal(err)
	}
	_, f := inProcess(t, serverConfig{env: []string{"PATH=" + bin + ":" + os.Getenv("PATH")}})
	c := f.dial(t)
	dir := t.TempDir()
	err := c.Upload(t.Context(), transports.Upload{Src: strings.NewReader("content"), Dst: dir + "/f", Mode: 0o644})
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch after transfer") {
		t.Fatalf("Upload = %v, want a checksum mismatch", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}
