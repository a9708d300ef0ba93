package ssh

import (
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/osrun/osrun/transports"
)

// warnings collects Options.Warn messages.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) warn(m string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, m)
}

func (w *warnings) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.msgs, "\n")
}

func TestHostKeysOpenSSH(t *testing.T) {
	d := startSSHD(t, sshdConfig{})
	other := newSigner(t).PublicKey()
	normalized := knownhosts.Normalize(d.addr)
	fp := ssh.FingerprintSHA256(d.HostKey)
	plain := knownhosts.Line([]string{normalized}, d.HostKey)

	for _, tc := range []struct {
		name       string
		knownHosts *string // nil: the file does not exist
		mode       string
		pinned     string
		wantErr    []string // substrings; none means Dial must succeed
		wantWarn   string
		wantFile   string // substring the file must contain afterwards
	}{
		{name: "known", knownHosts: ptr(plain + "\n")},
		{name: "hashed entry", knownHosts: ptr(knownhosts.Line([]string{knownhosts.HashHostname(normalized)}, d.HostKey) + "\n")},
		{name: "unknown refused", knownHosts: ptr(""),
			wantErr: []string{"host key unknown", fp, "ssh-keyscan -p", "accept-new"}},
		{name: "missing file is unknown", knownHosts: nil,
			wantErr: []string{"host key unknown", fp}},
		{name: "accept-new records", knownHosts: nil, mode: "accept-new",
			wantWarn: "recorded new host key", wantFile: normalized + " " + d.HostKey.Type()},
		{name: "changed refused", knownHosts: ptr(knownhosts.Line([]string{normalized}, other) + "\n"),
			wantErr: []string{"HOST KEY CHANGED", fp, ssh.FingerprintSHA256(other), "ssh-keygen -R"}},
		{name: "changed refused with accept-new", mode: "accept-new", knownHosts: ptr(knownhosts.Line([]string{normalized}, other) + "\n"),
			wantErr: []string{"HOST KEY CHANGED"}},
		{name: "revoked refused", knownHosts: ptr(plain + "\n@revoked * " + string(ssh.MarshalAuthorizedKey(d.HostKey))),
			wantErr: []string{"@revoked", fp}},
		{name: "pinned", knownHosts: ptr(""), pinned: string(ssh.MarshalAuthorizedKey(d.HostKey))},
		{name: "pinned mismatch", knownHosts: ptr(plain + "\n"), pinned: string(ssh.MarshalAuthorizedKey(other)),
			wantErr: []string{"HOST KEY MISMATCH", fp}},
		{name: "off warns", knownHosts: ptr(knownhosts.Line([]string{normalized}, other) + "\n"), mode: "off",
			wantWarn: "host key checking is off"},
		{name: "bad mode", knownHosts: ptr(plain + "\n"), mode: "yes", wantErr: []string{`host_key_checking "yes"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := d.fixture(t, "fe01")
			kh := t.TempDir() + "/known_hosts"
			if tc.knownHosts != nil {
				if err := os.WriteFile(kh, []byte(*tc.knownHosts), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			f.host.SSH.KnownHosts = []string{kh}
			f.host.SSH.HostKeyChecking = tc.mode
			f.host.SSH.HostKey = tc.pinned
			var w warnings
			f.opts.Warn = w.warn
			c, err := Dial(t.Context(), f.host, f.opts)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				defer c.Close()
				if err := c.Run(t.Context(), &transportsCmdTrue); err != nil {
					t.Fatalf("Run: %v", err)
				}
			} else {
				if err == nil {
					c.Close()
					t.Fatal("Dial succeeded, want it refused")
				}
				if !errors.Is(err, transports.ErrUnreachable) {
					t.Errorf("error %v does not wrap ErrUnreachable", err)
				}
				for _, s := range tc.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				if !strings.HasPrefix(err.Error(), "ssh fe01 ("+d.addr+"): ") {
					t.Errorf("error %q does not start with the host and address", err)
				}
			}
			if !strings.Contains(w.text(), tc.wantWarn) || (tc.wantWarn == "" && w.text() != "") {
				t.Errorf("warnings %q, want %q", w.text(), tc.wantWarn)
			}
			after, _ := os.ReadFile(kh)
			if tc.wantFile != "" {
				if !strings.Contains(string(after), tc.wantFile) {
					t.Errorf("known_hosts %q does not contain %q", after, tc.wantFile)
				}
				// Recorded: strict mode now accepts it.
				f.host.SSH.HostKeyChecking = ""
				c2, err := Dial(t.Context(), f.host, f.opts)
				if err != nil {
					t.Fatalf("Dial after accept-new recorded the key: %v", err)
				}
				c2.Close()
			} else if tc.knownHosts != nil && string(after) != *tc.knownHosts {
				t.Errorf("known_hosts changed from %q to %q", *tc.knownHosts, after)
			}
		})
	}
}

// TestHostKeyAlgorithms: a server with two host keys, of which only the
// second type is known, must present that one rather than look changed.
func TestHostKeyAlgorithms(t *testing.T) {
	dir := t.TempDir()
	keyFile, pub := writeClientKey(t, dir, "id", formatOpenSSH, "")
	_, ecPriv := writeECDSA(t)
	ecSigner, err := ssh.NewSignerFromKey(ecPriv)
	if err != nil {
		t.Fatal(err)
	}
	edSigner := newSigner(t)
	for _, known := range []ssh.Signer{ecSigner, edSigner} {
		s := startTestServer(t, serverConfig{authorized: pub, hostKey: ecSigner, extraHostKeys: []ssh.Signer{edSigner}})
		f := hostFor(t, t.TempDir(), "fe01", s.addr, known.PublicKey(), keyFile, "tester")
		f.dial(t)
	}
}

// TestHostCertificate: a host certificate signed by a CA named in an
// @cert-authority line is trusted without the host's own key.
func TestHostCertificate(t *testing.T) {
	dir := t.TempDir()
	keyFile, pub := writeClientKey(t, dir, "id", formatOpenSSH, "")
	ca := newSigner(t)
	hostSigner := newSigner(t)
	cert := &ssh.Certificate{
		Key: hostSigner.PublicKey(), CertType: ssh.HostCert, KeyId: "fe01",
		ValidPrincipals: []string{"127.0.0.1"}, ValidBefore: ssh.CertTimeInfinity,
	}
	if err := cert.SignCert(randReader, ca); err != nil {
		t.Fatal(err)
	}
	certSigner, err := ssh.NewCertSigner(cert, hostSigner)
	if err != nil {
		t.Fatal(err)
	}
	s := startTestServer(t, serverConfig{authorized: pub, hostKey: certSigner})
	f := hostFor(t, dir, "fe01", s.addr, nil, keyFile, "tester")
	kh := f.host.SSH.KnownHosts[0]

	if _, err := Dial(t.Context(), f.host, f.opts); err == nil {
		t.Fatal("Dial trusted a certificate from an unknown CA")
	}
	line := "@cert-authority " + knownhosts.Normalize(s.addr) + " " + string(ssh.MarshalAuthorizedKey(ca.PublicKey()))
	if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	f.dial(t)
}

func ptr[T any](v T) *T { return &v }
