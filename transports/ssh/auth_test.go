package ssh

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/transports"
)

// startAgent serves an ssh-agent holding key on a unix socket and points
// SSH_AUTH_SOCK at it.
func startAgent(t *testing.T, key any) {
	t.Helper()
	kr := agent.NewKeyring()
	if err := kr.Add(agent.AddedKey{PrivateKey: key}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				agent.ServeAgent(kr, c)
			}()
		}
	}()
	t.Cleanup(func() { l.Close(); wg.Wait() })
	t.Setenv("SSH_AUTH_SOCK", sock)
}

func TestAuth(t *testing.T) {
	dir := t.TempDir()
	opensshKey, opensshPub := writeClientKey(t, dir, "id_ed25519", formatOpenSSH, "")
	pemKey, pemPub := writeClientKey(t, dir, "id_ecdsa.pem", formatPEM, "")
	lockedKey, lockedPub := writeClientKey(t, dir, "id_locked", formatOpenSSH, "correct horse")
	agentPub, agentPriv := writeECDSA(t)
	yes := true

	for _, tc := range []struct {
		name       string
		authorized ssh.PublicKey
		password   string // the server accepts it
		keyFile    string
		passphrase secret.Value
		pw         secret.Value
		agent      bool
		staleAgent bool   // SSH_AUTH_SOCK names a socket nobody listens on
		homeKey    string // copied to ~/.ssh/id_ed25519
		useAgent   *bool
		wantErr    []string
	}{
		{name: "openssh key", authorized: opensshPub, keyFile: opensshKey},
		{name: "pem key", authorized: pemPub, keyFile: pemKey},
		{name: "passphrase", authorized: lockedPub, keyFile: lockedKey, passphrase: secret.New("correct horse", `env("PP")`)},
		{name: "passphrase missing", authorized: lockedPub, keyFile: lockedKey,
			wantErr: []string{"passphrase-protected and no passphrase is configured"}},
		{name: "passphrase wrong", authorized: lockedPub, keyFile: lockedKey, passphrase: secret.New("wrong", `env("PP")`),
			wantErr: []string{"decrypt private key", `[redacted] from env("PP")`}},
		{name: "agent", authorized: agentPub, agent: true},
		{name: "key file before agent", authorized: opensshPub, keyFile: opensshKey, agent: true},
		{name: "password", password: "s3cret", pw: secret.New("s3cret", `env("PW")`)},
		{name: "key refused then password", authorized: pemPub, keyFile: opensshKey, password: "s3cret", pw: secret.New("s3cret", `env("PW")`)},
		{name: "refused", authorized: pemPub, keyFile: opensshKey,
			wantErr: []string{"authentication refused for user tester (tried: publickey " + opensshKey + ")"}},
		{name: "wrong password", password: "s3cret", pw: secret.New("nope", `env("PW")`),
			wantErr: []string{"authentication refused for user tester (tried: password)"}},
		{name: "use_agent without agent", keyFile: opensshKey, authorized: opensshPub, useAgent: &yes,
			wantErr: []string{"SSH_AUTH_SOCK is not"}},
		{name: "stale agent socket ignored", authorized: opensshPub, keyFile: opensshKey, staleAgent: true},
		{name: "default identity file", authorized: opensshPub, homeKey: opensshKey},
		{name: "nothing configured", authorized: opensshPub, wantErr: []string{"no authentication configured"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SSH_AUTH_SOCK", "")
			home := t.TempDir()
			t.Setenv("HOME", home)
			if tc.homeKey != "" {
				b, err := os.ReadFile(tc.homeKey)
				if err != nil {
					t.Fatal(err)
				}
				os.Mkdir(filepath.Join(home, ".ssh"), 0o700)
				if err := os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tc.agent {
				startAgent(t, agentPriv)
			}
			if tc.staleAgent {
				t.Setenv("SSH_AUTH_SOCK", filepath.Join(t.TempDir(), "gone.sock"))
				tc.useAgent = nil
			}
			s := startTestServer(t, serverConfig{authorized: tc.authorized, password: tc.password})
			f := hostFor(t, t.TempDir(), "fe01", s.addr, s.hostKey.PublicKey(), tc.keyFile, "tester")
			f.host.SSH.Passphrase = tc.passphrase
			f.host.SSH.Password = tc.pw
			f.host.SSH.UseAgent = tc.useAgent
			c, err := Dial(t.Context(), f.host, f.opts)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				defer c.Close()
				if err := c.Run(t.Context(), &transports.Cmd{Command: "true"}); err != nil {
					t.Fatalf("Run: %v", err)
				}
				return
			}
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			if !errors.Is(err, transports.ErrUnreachable) {
				t.Errorf("%v does not wrap ErrUnreachable", err)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			for _, secretText := range []string{"correct horse", "s3cret", "nope"} {
				if strings.Contains(err.Error(), secretText) {
					t.Errorf("error %q reveals a secret", err)
				}
			}
		})
	}
}
