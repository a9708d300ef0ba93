package installer

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

// serverFiles is the file system of a winrmtest.Host, where the real
// transport's uploads land.
type serverFiles struct{ h *winrmtest.Host }

func (f serverFiles) has(p string) bool { _, ok := f.h.ReadFile(p); return ok }
func (f serverFiles) put(p, _ string)   { f.h.WriteFile(p, []byte("fetched")) }
func (f serverFiles) remove(p string)   { f.h.WriteFile(p, nil) }

// TestDotNetOverWinRM runs an upgrade of the controller through the real
// WinRM transport (WS-Management, osrun's wrapper script, the upload
// protocol, stdin) against winrmtest's server, whose host answers the
// module's scripts with the same simulation as the other tests.
func TestDotNetOverWinRM(t *testing.T) {
	src, sum := installerFile(t)
	sim := newWinHost("11.29.1")
	host := winrmtest.NewHost()
	sim.files = serverFiles{host}
	var stdin []string
	host.HandleMatch(func(script string) bool {
		return strings.HasPrefix(hostscript.ID(script), "installer/")
	}, func(ctx context.Context, script string, in io.Reader, stdout, stderr io.Writer) int {
		b, _ := io.ReadAll(in)
		stdin = append(stdin, string(b))
		r := sim.handle(hostscripttest.Call{Command: script, Stdin: string(b)})
		io.WriteString(stdout, r.Stdout)
		io.WriteString(stderr, r.Stderr)
		return r.Status
	})
	srv := winrmtest.NewServer(t, winrmtest.Options{HTTP: true, Auth: []string{winrmtest.AuthNTLM}, Password: "pw", Handler: host})
	no := false
	h := &inventory.Host{Name: "ctl", Address: srv.Host, Stack: inventory.StackDotNet,
		Roles: []inventory.Role{inventory.RoleController, inventory.RoleFrontend},
		WinRM: inventory.WinRMSettings{Port: srv.Port, Auth: "ntlm", User: srv.User, Password: secret.New("pw", "test"),
			HTTPS: &no, Timeout: 10 * time.Second, OperationTimeout: 2 * time.Second}}
	conn, err := winrm.Dial(t.Context(), h, winrm.Options{Warn: func(string) {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })

	a := mustBuild(t, map[string]any{"version": "11.31.0", "source": src, "sha256": sum, "admin_password": password("s3cret")})
	env, progress := hostEnv(conn, inventory.StackDotNet, true)
	env.Host = h
	res, err := a.Apply(t.Context(), env)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Msg != "upgraded 11.29.1 → 11.31.0.45003" {
		t.Errorf("Apply = %v %q", res.Changed, res.Msg)
	}
	if data, ok := host.ReadFile(stagedExe); ok && len(data) != 0 {
		t.Errorf("installer left behind after success")
	}
	if len(sim.toolCalls) != 1 || sim.toolCalls[0].Stdin != "s3cret\n" {
		t.Errorf("configure calls = %+v", sim.toolCalls)
	}
	if !strings.Contains(progress.String(), "Upgrading installation...") {
		t.Errorf("progress:\n%s", progress)
	}
	again, err := a.Apply(t.Context(), env)
	if err != nil || again.Changed {
		t.Errorf("second Apply: %v %v", err, again.Changed)
	}
}
