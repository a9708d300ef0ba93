package winrm_test

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/transports"
	"github.com/osrun/osrun/transports/transporttest"
	"github.com/osrun/osrun/transports/winrm"
	"github.com/osrun/osrun/transports/winrm/winrmtest"
)

const password = "Pa$$w0rd 'quoted'"

// hostFor describes srv as an inventory host: HTTPS verified against the
// server's CA, NTLM unless auth says otherwise.
func hostFor(t *testing.T, srv *winrmtest.Server, auth string) *inventory.Host {
	t.Helper()
	h := &inventory.Host{Name: "fe01", Address: srv.Host, Stack: inventory.StackDotNet}
	h.WinRM = inventory.WinRMSettings{
		Port:             srv.Port,
		Auth:             auth,
		User:             `OSRUN\` + srv.User,
		Password:         secret.New(srv.Password, "test"),
		Timeout:          10 * time.Second,
		OperationTimeout: 2 * time.Second,
	}
	if srv.CAPEM != nil {
		ca := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(ca, srv.CAPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		h.WinRM.CAFile = ca
	} else {
		no := false
		h.WinRM.HTTPS = &no
	}
	return h
}

func dial(t *testing.T, h *inventory.Host) *winrm.Conn {
	t.Helper()
	c, err := winrm.Dial(t.Context(), h, winrm.Options{Warn: func(msg string) { t.Log(msg) }})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestConformance(t *testing.T) {
	for _, auth := range []string{"ntlm"} {
		t.Run(auth, func(t *testing.T) {
			srv := winrmtest.NewServer(t, winrmtest.Options{Password: password})
			h := hostFor(t, srv, auth)
			transporttest.Run(t, func(t *testing.T) transports.Conn { return dial(t, h) })
		})
	}
}

func secretOf(s string) secret.Value { return secret.New(s, "test") }

// closedPort returns a local port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}
