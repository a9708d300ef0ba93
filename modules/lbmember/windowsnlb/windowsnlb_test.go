package windowsnlb_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules/hostscript"
	"github.com/osrun/osrun/modules/hostscript/hostscripttest"
	"github.com/osrun/osrun/modules/lbmember/lbtest"
	"github.com/osrun/osrun/modules/lbmember/member"
	"github.com/osrun/osrun/modules/lbmember/windowsnlb"
	"github.com/osrun/osrun/modules/lbmember/windowsnlb/windowsnlbtest"
	"github.com/osrun/osrun/transports"
	"github.com/osrun/osrun/transports/winrm/winrmtest"
)

var nodes = []string{"fe01", "fe02", "fe03"}

// lab is one simulated cluster behind a WinRM endpoint (HTTPS, NTLM or
// Basic, its own CA) and the settings of a load_balancer block for it.
type lab struct {
	nlb      *windowsnlbtest.Cluster
	srv      *winrmtest.Server
	settings map[string]cty.Value
}

func newLab(t *testing.T) *lab {
	t.Helper()
	nlb := windowsnlbtest.New("web.example.com", "10.0.0.100", "Ethernet 2", nodes...)
	host := winrmtest.NewHost()
	nlb.Register(host)
	srv := winrmtest.NewServer(t, winrmtest.Options{User: `CORP\osrun`, Password: "pw", Handler: host})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return &lab{nlb: nlb, srv: srv, settings: map[string]cty.Value{
		"address":  cty.StringVal(srv.Host),
		"port":     cty.NumberIntVal(int64(srv.Port)),
		"ca_file":  cty.StringVal(ca),
		"user":     cty.StringVal(`CORP\osrun`),
		"password": secret.MarkValue(cty.StringVal("pw"), `env("NLB_PASSWORD")`),
		"cluster":  cty.StringVal("web.example.com"),
		"timeout":  cty.StringVal("10s"),
	}}
}

func (l *lab) open(t *testing.T) *windowsnlb.Driver {
	t.Helper()
	d, err := windowsnlb.FromEndpoint(&inventory.Endpoint{Name: "nlb", Driver: "windows_nlb", Settings: l.settings})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func hold(t *testing.T, l *lab, node string) func() {
	t.Helper()
	release, err := l.nlb.Open(node)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	return release
}

func state(t *testing.T, d *windowsnlb.Driver, name string) member.Status {
	t.Helper()
	st, err := d.Status(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// The conformance suite through the real WinRM transport. Two of its cases
// do not run, because of what NLB is:
//   - Transitions walks every state to every other and reads each back.
//     NLB cannot do two of those steps: a node asked to drain with no
//     connection left stops at once (NLB ends a drain by stopping the node,
//     so it reads "disabled"), and a stopped node cannot be drained at all
//     (SetState leaves it stopped, still "disabled"). TestTransitions below
//     walks the transitions NLB has, with a client connection held open.
//   - Sessions and KillSessions need a session count: NLB shows none to its
//     cmdlets, so Hold is nil and the suite skips them. TestKillSessions
//     covers the forced stop.
func TestSimulatedNLBConforms(t *testing.T) {
	lbtest.Run(t, func(t *testing.T) *lbtest.Harness {
		if strings.HasSuffix(t.Name(), "/Transitions") {
			t.Skip("NLB: a drain ends stopped by itself and a stopped node cannot be drained; see TestTransitions")
		}
		l := newLab(t)
		return &lbtest.Harness{
			Driver:     l.open(t),
			Members:    nodes,
			SetHealthy: func(t *testing.T, name string, ok bool) { l.nlb.SetHeartbeat(name, ok) },
		}
	})
}

func TestTransitions(t *testing.T) {
	l := newLab(t)
	l.nlb.SetMinute(time.Hour) // no -Timeout expires in this test
	d := l.open(t)
	set := func(name string, st member.State) {
		t.Helper()
		if err := d.SetState(t.Context(), name, st); err != nil {
			t.Fatalf("SetState(%s, %s): %v", name, st, err)
		}
	}
	want := func(name string, st member.State, healthy bool, word string) {
		t.Helper()
		got := state(t, d, name)
		if got.State != st || got.Healthy != healthy || got.Sessions != 0 || !strings.HasPrefix(got.Detail, word+" ") {
			t.Errorf("%s: %+v, want %s healthy=%v (%s)", name, got, st, healthy, word)
		}
	}

	// A node serving a client drains and stays draining while it does.
	release := hold(t, l, "fe01")
	set("fe01", member.Drained)
	set("fe01", member.Drained)
	want("fe01", member.Drained, true, "Draining")
	want("fe02", member.Enabled, true, "Converged")
	// NLB ends the drain by itself when the connection closes.
	release()
	want("fe01", member.Disabled, false, "Stopped")
	// A stopped node is where a drain ends: nothing runs, it stays stopped.
	set("fe01", member.Drained)
	want("fe01", member.Disabled, false, "Stopped")
	// Enabling starts it; it converges on NLB's next round.
	set("fe01", member.Enabled)
	want("fe01", member.Enabled, false, "Converging")
	want("fe01", member.Enabled, true, "Converged")
	// Draining a draining node back in: Start-NlbClusterNode.
	hold(t, l, "fe01")
	set("fe01", member.Drained)
	set("fe01", member.Enabled)
	want("fe01", member.Enabled, false, "Converging")
	// A suspended node is resumed, then started.
	l.nlb.Put("fe02", windowsnlbtest.Suspended)
	want("fe02", member.Disabled, false, "Suspended")
	set("fe02", member.Disabled) // already out: nothing runs
	set("fe02", member.Enabled)
	// An idle node asked to drain stops at once.
	set("fe03", member.Drained)
	want("fe03", member.Disabled, false, "Stopped")

	wantCmds := []string{
		"Stop-NlbClusterNode fe01 -Drain (in a second runspace)",
		"Start-NlbClusterNode fe01",
		"Stop-NlbClusterNode fe01 -Drain (in a second runspace)",
		"Start-NlbClusterNode fe01",
		"Resume-NlbClusterNode fe02",
		"Start-NlbClusterNode fe02",
		"Stop-NlbClusterNode fe03 -Drain (in a second runspace)",
	}
	if got := l.nlb.Commands(); !slices.Equal(got, wantCmds) {
		t.Errorf("cmdlets\n got %q\nwant %q", got, wantCmds)
	}
}

// Disabling a node that serves a client blocks in Stop-NlbClusterNode
// -Drain until NLB has drained it: this is where the module's drain wait
// happens for NLB.
func TestDisableWaitsForNLBDrain(t *testing.T) {
	l := newLab(t)
	l.nlb.SetMinute(time.Hour)
	d := l.open(t)
	release := hold(t, l, "fe02")
	done := make(chan error, 1)
	go func() { done <- d.SetState(t.Context(), "fe02", member.Disabled) }()
	if err := l.nlb.WaitCommand(t.Context(), "Stop-NlbClusterNode fe02 -Drain -Timeout 10"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("SetState(disabled) returned while the node still had a connection: %v", err)
	default:
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := state(t, d, "fe02"); st.State != member.Disabled {
		t.Errorf("after the drain: %+v", st)
	}
	if got, want := l.nlb.Commands(), []string{"Stop-NlbClusterNode fe02 -Drain -Timeout 10"}; !slices.Equal(got, want) {
		t.Errorf("cmdlets %q, want %q", got, want)
	}
}

// Past drain_timeout (whole minutes) NLB stops the node and drops the
// connections left.
func TestDrainTimeout(t *testing.T) {
	l := newLab(t)
	l.nlb.SetMinute(20 * time.Millisecond)
	l.settings["drain_timeout"] = cty.StringVal("90s")
	d := l.open(t)
	hold(t, l, "fe02")
	if err := d.SetState(t.Context(), "fe02", member.Disabled); err != nil {
		t.Fatal(err)
	}
	if st := state(t, d, "fe02"); st.State != member.Disabled {
		t.Errorf("after the timeout: %+v", st)
	}
	if got, want := l.nlb.Commands(), []string{"Stop-NlbClusterNode fe02 -Drain -Timeout 2"}; !slices.Equal(got, want) {
		t.Errorf("cmdlets %q, want %q", got, want)
	}
}

// A cancelled disable stops waiting; the node goes on draining in NLB.
func TestDisableCancelled(t *testing.T) {
	l := newLab(t)
	l.nlb.SetMinute(time.Hour)
	d := l.open(t)
	hold(t, l, "fe02")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.SetState(ctx, "fe02", member.Disabled) }()
	if err := l.nlb.WaitState(t.Context(), "fe02", windowsnlbtest.Draining); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled SetState: %v, want context.Canceled", err)
	}
	if st := state(t, d, "fe02"); st.State != member.Drained {
		t.Errorf("after the cancel: %+v, want still draining", st)
	}
}

func TestKillSessions(t *testing.T) {
	l := newLab(t)
	d := l.open(t)
	hold(t, l, "fe01")
	if err := d.SetState(t.Context(), "fe01", member.Drained); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second finds it stopped and does nothing
		if err := d.KillSessions(t.Context(), "fe01"); err != nil {
			t.Fatal(err)
		}
	}
	if st := state(t, d, "fe01"); st.State != member.Disabled {
		t.Errorf("after KillSessions: %+v", st)
	}
	want := []string{"Stop-NlbClusterNode fe01 -Drain (in a second runspace)", "Stop-NlbClusterNode fe01"}
	if got := l.nlb.Commands(); !slices.Equal(got, want) {
		t.Errorf("cmdlets %q, want %q", got, want)
	}
	err := d.KillSessions(t.Context(), "fe09")
	lbtest.WantError(t, err, "node fe09: no such member", member.ErrNotFound)
}

// Node names compare without regard to case, as PowerShell's -eq does;
// the driver reports NLB's spelling.
func TestNodeNameCase(t *testing.T) {
	l := newLab(t)
	d := l.open(t)
	st, err := d.Status(t.Context(), "FE02")
	if err != nil || st.Name != "fe02" {
		t.Fatalf("Status(FE02) = %+v, %v", st, err)
	}
	if err := d.SetState(t.Context(), "FE02", member.Disabled); err != nil {
		t.Fatal(err)
	}
	if got := l.nlb.State("fe02"); got != windowsnlbtest.Stopped {
		t.Errorf("fe02 is %s", got)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(l *lab)
		do    func(d *windowsnlb.Driver) error
		want  string
		is    error
	}{
		{"wrong password", func(l *lab) {
			l.settings["password"] = secret.MarkValue(cty.StringVal("other"), `env("NLB_PASSWORD")`)
		}, func(d *windowsnlb.Driver) error { _, err := d.Members(t.Context()); return err },
			"list nodes: winrm 127.0.0.1: authentication failed (HTTP 401): check the user, the password", transports.ErrUnreachable},
		{"unknown node", nil, func(d *windowsnlb.Driver) error { return d.SetState(t.Context(), "fe09", member.Disabled) },
			"windows nlb cluster web.example.com via 127.0.0.1: node fe09: no such member", member.ErrNotFound},
		{"another cluster", func(l *lab) { l.settings["cluster"] = cty.StringVal("10.0.0.200") },
			func(d *windowsnlb.Driver) error { _, err := d.Status(t.Context(), "fe01"); return err },
			"127.0.0.1 is in NLB cluster web.example.com (10.0.0.100)", windowsnlb.ErrWrongCluster},
		{"cluster by ip", func(l *lab) { l.settings["cluster"] = cty.StringVal("10.0.0.100") },
			func(d *windowsnlb.Driver) error { _, err := d.Status(t.Context(), "fe01"); return err }, "", nil},
		{"wrong interface", func(l *lab) { l.settings["interface"] = cty.StringVal("Ethernet 9") },
			func(d *windowsnlb.Driver) error { _, err := d.Members(t.Context()); return err },
			"The interface 'Ethernet 9' is not bound to a Network Load Balancing cluster", nil},
		{"no nlb module", func(l *lab) { l.nlb.NoModule() },
			func(d *windowsnlb.Driver) error { return d.SetState(t.Context(), "fe01", member.Drained) },
			"(is the NLB feature's PowerShell module on 127.0.0.1? Install-WindowsFeature RSAT-NLB)", nil},
		{"invalid state", nil, func(d *windowsnlb.Driver) error { return d.SetState(t.Context(), "fe01", "bogus") },
			`set fe01: unknown member state "bogus"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab(t)
			if tt.setup != nil {
				tt.setup(l)
			}
			err := tt.do(l.open(t))
			if tt.want == "" {
				if err != nil {
					t.Errorf("error = %v", err)
				}
				return
			}
			lbtest.WantError(t, err, tt.want, tt.is)
			if err != nil && (strings.Contains(err.Error(), "other") || strings.Contains(err.Error(), `"pw"`)) {
				t.Errorf("error may show the password: %v", err)
			}
		})
	}
}

// The node can leave the cluster between the read and the change: the
// action script says so and the driver reports member.ErrNotFound.
func TestNodeGoneBeforeChange(t *testing.T) {
	conn := &hostscripttest.FakeConn{ShellName: "powershell", Handle: func(c hostscripttest.Call) hostscripttest.Reply {
		switch hostscript.ID(c.Command) {
		case "lb_member/windows_nlb_status":
			return hostscripttest.Reply{Stdout: "osrun-cluster-name=web\r\nosrun-cluster-ip=10.0.0.100\r\nosrun-nodes=1\r\n" +
				"osrun-node0-name=fe01\r\nosrun-node0-state=Converged\r\n"}
		default:
			return hostscripttest.Reply{Stdout: "osrun-missing=fe01\r\n"}
		}
	}}
	d := windowsnlb.New(windowsnlb.Config{Node: &inventory.Host{Name: "nlb1", Address: "nlb1"},
		Dial: func(context.Context, *inventory.Host) (hostscript.Runner, error) { return conn, nil }})
	err := d.SetState(t.Context(), "fe01", member.Drained)
	lbtest.WantError(t, err, "windows nlb cluster of nlb1: drain node fe01: no such member", member.ErrNotFound)
	if n := len(conn.Calls()); n != 2 {
		t.Errorf("%d scripts ran, want the status and the drain", n)
	}
}

func TestFromEndpointErrors(t *testing.T) {
	pw := secret.MarkValue(cty.StringVal("pw"), `env("NLB_PASSWORD")`)
	tests := []struct {
		name     string
		settings map[string]cty.Value
		want     string
	}{
		{"missing", map[string]cty.Value{}, "setting address: is required"},
		{"no user", map[string]cty.Value{"address": cty.StringVal("nlb1"), "password": pw}, `setting user: is required with auth "ntlm"`},
		{"literal password", map[string]cty.Value{"address": cty.StringVal("nlb1"), "user": cty.StringVal("a"),
			"password": cty.StringVal("pw")}, "setting password: must be a secret reference"},
		{"basic over http", map[string]cty.Value{"address": cty.StringVal("nlb1"), "user": cty.StringVal("a"), "password": pw,
			"auth": cty.StringVal("basic"), "https": cty.False}, "setting auth: basic over plain http"},
		{"unknown auth", map[string]cty.Value{"address": cty.StringVal("nlb1"), "user": cty.StringVal("a"), "password": pw,
			"auth": cty.StringVal("kerberos")}, `setting auth: "kerberos" is not ntlm, basic or certificate`},
		{"bad ca", map[string]cty.Value{"address": cty.StringVal("nlb1"), "user": cty.StringVal("a"), "password": pw,
			"ca_file": cty.StringVal("/nonexistent.pem")}, "setting ca_file: stat /nonexistent.pem"},
		{"bad drain_timeout", map[string]cty.Value{"address": cty.StringVal("nlb1"), "user": cty.StringVal("a"), "password": pw,
			"drain_timeout": cty.StringVal("10")}, `setting drain_timeout: "10" is not a duration`},
		{"typo", map[string]cty.Value{"address": cty.StringVal("nlb1"), "user": cty.StringVal("a"), "password": pw,
			"clustre": cty.StringVal("web")}, "setting clustre: unknown to this driver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := windowsnlb.FromEndpoint(&inventory.Endpoint{Name: "nlb", Driver: "windows_nlb", Settings: tt.settings})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "load balancer nlb (windows_nlb): ") {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}
