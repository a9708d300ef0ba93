package service

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules/hostscript"
	"github.com/osrun/osrun/modules/hostscript/hostscripttest"
	"github.com/osrun/osrun/transports/winrm"
	"github.com/osrun/osrun/transports/winrm/winrmtest"
)

// TestWindowsOverWinRM drives procedure step 7 (startup Automatic, then
// running) through the real WinRM transport against winrmtest's server,
// whose host answers with the same SCM simulation as the other tests.
func TestWindowsOverWinRM(t *testing.T) {
	sim := &winHost{services: map[string]*winService{deployer: {status: "Stopped", startup: "Disabled"}}, startReads: 1}
	host := winrmtest.NewHost()
	host.HandleMatch(func(script string) bool {
		return strings.HasPrefix(hostscript.ID(script), "service/")
	}, func(ctx context.Context, script string, in io.Reader, stdout, stderr io.Writer) int {
		r := sim.handle(hostscripttest.Call{Command: script})
		io.WriteString(stdout, r.Stdout)
		io.WriteString(stderr, r.Stderr)
		return r.Status
	})
	srv := winrmtest.NewServer(t, winrmtest.Options{HTTP: true, Auth: []string{winrmtest.AuthNTLM}, Password: "pw", Handler: host})
	no := false
	h := &inventory.Host{Name: "fe01", Address: srv.Host, Stack: inventory.StackDotNet,
		WinRM: inventory.WinRMSettings{Port: srv.Port, Auth: "ntlm", User: srv.User, Password: secret.New("pw", "test"),
			HTTPS: &no, Timeout: 10 * time.Second, OperationTimeout: 2 * time.Second}}
	conn, err := winrm.Dial(t.Context(), h, winrm.Options{Warn: func(string) {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })

	a := mustAction(t, Options{Poll: time.Millisecond}, map[string]string{"name": "deployer", "state": "running", "startup": "automatic"})
	e, _ := env(conn, inventory.StackDotNet)
	check, err := a.Check(t.Context(), e)
	if err != nil || !check.Changed {
		t.Fatalf("Check = %v %v %q", err, check.Changed, check.Msg)
	}
	res, err := a.Apply(t.Context(), e)
	if err != nil {
		t.Fatal(err)
	}
	if want := `service "OutSystems Deployment Service": set startup Disabled → automatic and start (now Running, startup Automatic)`; res.Msg != want {
		t.Errorf("Apply = %q, want %q", res.Msg, want)
	}
	again, err := a.Apply(t.Context(), e)
	if err != nil || again.Changed {
		t.Errorf("second Apply: %v %v %q", err, again.Changed, again.Msg)
	}
}
