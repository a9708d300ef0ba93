package ssh

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"
)

// testServer is an in-process SSH server that runs "exec" requests with
// /bin/sh in a new session (as sshd does, so $$ is the process group) and
// honours "signal" requests.
type testServer struct {
	addr    string
	hostKey ssh.Signer
	env     []string // extra environment for commands

	ignoreGlobal bool

	mu       sync.Mutex
	commands []string // every exec request received
	conns    []net.Conn
}

type serverConfig struct {
	hostKey       ssh.Signer    // nil: a fresh ed25519 key
	authorized    ssh.PublicKey // accepted client key, may be nil
	password      string        // accepted password, "" for none
	extraHostKeys []ssh.Signer
	env           []string
	// ignoreGlobal leaves global requests (keepalives) unanswered, like
	// a server that hung.
	ignoreGlobal bool
}

func newSigner(t testing.TB) ssh.Signer {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func startTestServer(t *testing.T, sc serverConfig) *testServer {
	t.Helper()
	if sc.hostKey == nil {
		sc.hostKey = newSigner(t)
	}
	cfg := &ssh.ServerConfig{}
	if sc.authorized != nil {
		want := sc.authorized.Marshal()
		cfg.PublicKeyCallback = func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if string(k.Marshal()) == string(want) {
				return nil, nil
			}
			return nil, errors.New("key not authorized")
		}
	}
	if sc.password != "" {
		cfg.PasswordCallback = func(_ ssh.ConnMetadata, p []byte) (*ssh.Permissions, error) {
			if string(p) == sc.password {
				return nil, nil
			}
			return nil, errors.New("wrong password")
		}
	}
	cfg.AddHostKey(sc.hostKey)
	for _, k := range sc.extraHostKeys {
		cfg.AddHostKey(k)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{addr: l.Addr().String(), hostKey: sc.hostKey, env: sc.env, ignoreGlobal: sc.ignoreGlobal}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, nc)
			s.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.serve(nc, cfg, &wg)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		s.dropAll()
		wg.Wait()
	})
	return s
}

// dropAll closes every client connection, as a network failure would.
func (s *testServer) dropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

func (s *testServer) execs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...)
}

func (s *testServer) serve(nc net.Conn, cfg *ssh.ServerConfig, wg *sync.WaitGroup) {
	defer nc.Close()
	sc, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for r := range reqs {
			if r.WantReply && !s.ignoreGlobal {
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
			s.session(ch, creqs)
		}()
	}
}

func (s *testServer) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	var cmd *exec.Cmd
	exited := make(chan struct{})
	for r := range reqs {
		switch r.Type {
		case "exec":
			if cmd != nil {
				r.Reply(false, nil)
				continue
			}
			var m struct{ Command string }
			if err := ssh.Unmarshal(r.Payload, &m); err != nil {
				r.Reply(false, nil)
				continue
			}
			s.mu.Lock()
			s.commands = append(s.commands, m.Command)
			s.mu.Unlock()
			cmd = exec.Command("/bin/sh", "-c", m.Command)
			cmd.Env = append(os.Environ(), s.env...)
			cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
			stdin, err := cmd.StdinPipe()
			if err != nil {
				r.Reply(false, nil)
				continue
			}
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
			if err := cmd.Start(); err != nil {
				r.Reply(false, nil)
				continue
			}
			r.Reply(true, nil)
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
				b := make([]byte, 4)
				binary.BigEndian.PutUint32(b, uint32(status))
				ch.SendRequest("exit-status", false, b)
				close(exited)
				ch.Close()
			}()
		case "signal":
			var m struct{ Signal string }
			ssh.Unmarshal(r.Payload, &m)
			if cmd != nil && cmd.Process != nil {
				if n, ok := signalNumbers[m.Signal]; ok {
					cmd.Process.Signal(syscall.Signal(n))
				}
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
	// The client closed the channel: like sshd, leave the process alone.
	if cmd != nil {
		<-exited
	}
}
