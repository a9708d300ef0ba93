package windows_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/lab/windows"
	"github.com/osrun/osrun/modules/hostscript"
	"github.com/osrun/osrun/transports/winrm"
	"github.com/osrun/osrun/transports/winrm/winrmtest"
)

// Behind its TLS face (the lab farm's set-up) the host authenticates each
// connection, as a real endpoint does with NTLM: once one client has
// logged in, another with a wrong password is still refused.
func TestFrontRefusesAWrongPasswordAfterAGoodLogin(t *testing.T) {
	ca, err := winrmtest.NewAuthority()
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := ca.ServerTLS(net.ParseIP("127.0.0.1"), "fe01")
	if err != nil {
		t.Fatal(err)
	}
	h, err := windows.Start(windows.Config{Name: "fe01", Version: "11.30.0", Password: "right-pw", TLS: tlsCfg, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	connect := func(password string) (*winrm.Conn, error) {
		https := true
		ih := &inventory.Host{Name: "fe01", Address: "127.0.0.1", Stack: inventory.StackDotNet, Roles: []inventory.Role{inventory.RoleFrontend},
			WinRM: inventory.WinRMSettings{Port: h.Port(), HTTPS: &https, CAFile: caFile, Auth: "ntlm", User: h.User(),
				Password: secret.New(password, "test"), Timeout: 10 * time.Second, OperationTimeout: 2 * time.Second}}
		return winrm.Dial(t.Context(), ih, winrm.Options{})
	}
	probe := func(c *winrm.Conn) error {
		_, err := hostscript.Exec(t.Context(), c, hostscript.Script{Text: "# osrun:preflight/probe\n'osrun-preflight'"})
		return err
	}

	good, err := connect("right-pw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { good.Close() })
	if err := probe(good); err != nil {
		t.Fatalf("the right password: %v", err)
	}
	bad, err := connect("wrong-pw")
	if err == nil {
		t.Cleanup(func() { bad.Close() })
		err = probe(bad)
	}
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "401") && !strings.Contains(strings.ToLower(err.Error()), "credentials") {
		t.Fatalf("a wrong password after a good login: %v, want it refused", err)
	}
	if err := probe(good); err != nil {
		t.Errorf("the good client after the refusal: %v", err)
	}
}
