package ssh

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/transports"
)

// keyFormat is how writeClientKey stores a key.
type keyFormat int

const (
	formatOpenSSH keyFormat = iota // "-----BEGIN OPENSSH PRIVATE KEY-----", ed25519
	formatPEM                      // "-----BEGIN EC PRIVATE KEY-----" (SEC 1), ecdsa
)

// writeClientKey writes a new private key and returns its path and public key.
func writeClientKey(t testing.TB, dir, name string, format keyFormat, passphrase string) (string, ssh.PublicKey) {
	t.Helper()
	var block *pem.Block
	var pub any
	switch format {
	case formatOpenSSH:
		p, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub = p
		if passphrase == "" {
			block, err = ssh.MarshalPrivateKey(priv, "osrun test")
		} else {
			block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "osrun test", []byte(passphrase))
		}
		if err != nil {
			t.Fatal(err)
		}
	case formatPEM:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub = &priv.PublicKey
		der, err := x509.MarshalECPrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return path, sp
}

var randReader = rand.Reader

func writeECDSA(t testing.TB) (ssh.PublicKey, *ecdsa.PrivateKey) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

var transportsCmdTrue = transports.Cmd{Command: "true"}

func secretFor(s string) secret.Value { return secret.New(s, `env("TEST")`) }
