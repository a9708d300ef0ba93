package preflight_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/osrun/osrun/runner/preflight"
)

// key identifies a problem for comparison: check, host or zone, what.
func key(p preflight.Problem) string {
	subject := p.Host
	if subject == "" {
		subject = p.Zone
	}
	return p.Check + " " + subject + " " + p.What
}

func TestRun(t *testing.T) {
	all := faults{unreachable: true, notInPool: true, unhealthy: true, missingFile: true, badSum: true, scDown: true, noVersion: true}
	tests := []struct {
		name string
		f    faults
		want func(tf *testFarm) []string
	}{
		{name: "healthy farm", want: func(*testFarm) []string { return nil }},
		{name: "unreachable host", f: faults{unreachable: true},
			want: func(*testFarm) []string { return []string{"reach fe03 unreachable"} }},
		{name: "front-end missing from the pool", f: faults{notInPool: true},
			want: func(*testFarm) []string { return []string{"load_balancer fe02 not in the pool"} }},
		{name: "unhealthy loaded member leaves its zone short", f: faults{unhealthy: true},
			want: func(*testFarm) []string {
				return []string{"load_balancer fe06 unhealthy", "capacity porto loaded set below minimum capacity"}
			}},
		{name: "missing installer", f: faults{missingFile: true},
			want: func(tf *testFarm) []string {
				return []string{"artefact  installer file " + tf.dotnetExe + " (for fe04, fe05, fe06, fe07)"}
			}},
		{name: "checksum mismatch", f: faults{badSum: true},
			want: func(tf *testFarm) []string {
				return []string{"artefact  installer file " + tf.j2eeSh + ": checksum mismatch"}
			}},
		{name: "Service Center unreachable", f: faults{scDown: true},
			want: func(*testFarm) []string { return []string{"service_center lisbon, porto Service Center unreachable"} }},
		{name: "load balancer unreachable", f: faults{lbDown: true},
			want: func(*testFarm) []string { return []string{"load_balancer lisbon, porto load balancer unreachable"} }},
		{name: "front-end unknown to Service Center", f: faults{scUnknown: true},
			want: func(*testFarm) []string { return []string{"service_center fe07 unknown to Service Center"} }},
		{name: "no Platform Server installed", f: faults{noVersion: true},
			want: func(*testFarm) []string { return []string{"version fe08 no Platform Server installed"} }},
		{name: "everything at once", f: all,
			want: func(tf *testFarm) []string {
				return []string{
					"reach fe03 unreachable",
					"version fe08 no Platform Server installed",
					"artefact  installer file " + tf.j2eeSh + ": checksum mismatch",
					"artefact  installer file " + tf.dotnetExe + " (for fe04, fe05, fe06, fe07)",
					"load_balancer fe02 not in the pool",
					"load_balancer fe06 unhealthy",
					"service_center lisbon, porto Service Center unreachable",
					"capacity porto loaded set below minimum capacity",
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tf := newTestFarm(t, tt.f)
			r, err := preflight.Run(t.Context(), tf.pb, tf.inv, tf.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range r.Problems {
				got = append(got, key(p))
			}
			want := tt.want(tf)
			if !slices.Equal(got, want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			for _, p := range r.Problems {
				// The SSH transport's own message: the dial was really refused.
				if p.Check == preflight.CheckReach && !strings.Contains(p.Why, "connection refused") {
					t.Errorf("unreachable for another reason: %s", p)
				}
			}
			if r.OK() != (len(want) == 0) {
				t.Errorf("OK() = %v with %d problems", r.OK(), len(r.Problems))
			}
			var text bytes.Buffer
			if _, err := r.WriteTo(&text); err != nil {
				t.Fatal(err)
			}
			verdict := "preflight passed"
			if len(want) > 0 {
				verdict = fmt.Sprintf("preflight failed: %d problem", len(want))
			}
			if !strings.Contains(text.String(), verdict) {
				t.Errorf("the text report does not say %q", verdict)
			}
			if t.Failed() {
				t.Log(text.String())
			}
		})
	}
}

// A ready farm reports what it read: versions, balancer states,
// deployments, capacities and the verified installers.
func TestRunReportsState(t *testing.T) {
	tf := newTestFarm(t, faults{})
	var lines []string
	tf.opts.Progress = func(s string) { lines = append(lines, s) }
	r, err := preflight.Run(t.Context(), tf.pb, tf.inv, tf.opts)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || len(r.Notes) != 0 {
		t.Fatalf("problems %v, notes %v", r.Problems, r.Notes)
	}
	if len(r.Hosts) != len(hostZones) {
		t.Fatalf("%d hosts reported, want %d", len(r.Hosts), len(hostZones))
	}
	for _, h := range r.Hosts {
		if !h.Reachable || h.Version != "11.30.0.41000" || h.Deployment != preflight.DeploymentEnabled ||
			h.Member == nil || !h.Member.Found || !h.Member.InRotation || h.Member.State != "enabled" {
			t.Errorf("host %+v, member %+v", h, h.Member)
		}
	}
	for _, z := range r.Zones {
		if !z.Checked || z.InRotation != 4 || z.LoadedInRotation != 2 || z.Capacity != 0.5 {
			t.Errorf("zone %+v", z)
		}
	}
	if len(r.Artefacts) != 2 {
		t.Fatalf("artefacts %+v", r.Artefacts)
	}
	for _, a := range r.Artefacts {
		if !a.OK || a.Size == 0 {
			t.Errorf("artefact %+v", a)
		}
	}
	if a := r.Artefacts[0]; a.Path != tf.j2eeSh || a.Actual != a.SHA256 || !slices.Equal(a.Hosts, []string{"ctl01", "fe02", "fe03", "fe08"}) ||
		!slices.Equal(a.Tasks, []string{"installer.controller", "installer.front_ends"}) {
		t.Errorf("script artefact %+v", a)
	}
	// One line per host, file, balancer and Service Center.
	if want := len(hostZones) + 2 + 1 + 1; len(lines) != want {
		t.Errorf("%d progress lines, want %d: %q", len(lines), want, lines)
	}

	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back preflight.Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Hosts) != len(r.Hosts) || back.Hosts[0].Member.Pool == "" || back.MinCapacity != 0.5 {
		t.Errorf("JSON round trip lost data: %s", b)
	}

	var text bytes.Buffer
	if _, err := r.WriteTo(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ctl01  lisbon  updating  yes        11.30.0.41000  enabled, healthy  enabled",
		"zone porto: 2 of 4 front-ends in rotation are loaded (50%, at least 50% needed)",
		"preflight passed",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, text.String())
		}
	}
}

// The shipped playbook's installer tasks name the .NET installer for .NET
// hosts and the J2EE script for J2EE hosts, the digest only for the first.
func TestRunShippedPlaybook(t *testing.T) {
	tf := newTestFarm(t, faults{})
	pb := decodePlaybook(t, tf.inv, "../../playbooks/upgrade.hcl", map[string]string{
		"target_version":   "11.31.0",
		"dotnet_installer": tf.dotnetExe, "dotnet_installer_sha256": sha256Hex("MZ installer\n"), "j2ee_installer": tf.j2eeSh,
	})
	r, err := preflight.Run(t.Context(), pb, tf.inv, tf.opts)
	if err != nil {
		t.Fatal(err)
	}
	// The shipped playbook reads versions at the default install_dir,
	// where this machine has no Platform Server.
	for _, p := range r.Problems {
		if p.Check != preflight.CheckVersion {
			t.Errorf("problem %s", p)
		}
	}
	type art struct {
		path, sum string
		hosts     []string
	}
	var got []art
	for _, a := range r.Artefacts {
		got = append(got, art{a.Path, a.SHA256, a.Hosts})
		if !a.OK {
			t.Errorf("artefact %+v", a)
		}
	}
	want := []art{
		{tf.j2eeSh, "", []string{"ctl01", "fe02", "fe03", "fe08"}},
		{tf.dotnetExe, sha256Hex("MZ installer\n"), []string{"fe04", "fe05", "fe06", "fe07"}},
	}
	if !slices.EqualFunc(got, want, func(a, b art) bool { return a.path == b.path && a.sum == b.sum && slices.Equal(a.hosts, b.hosts) }) {
		t.Errorf("artefacts %+v, want %+v", got, want)
	}
}

// What the playbook only knows during the run (a result), or what the
// host reads itself (remote_path), is noted, not checked; a task whose
// when is false before the run names no file.
func TestRunUncheckable(t *testing.T) {
	tf := newTestFarm(t, faults{})
	path := filepath.Join(t.TempDir(), "late.hcl")
	write(t, path, `
wave "all" {
  hosts = group.all
  task "command" "find" {
    command = "echo /srv/installer.exe"
  }
  task "installer" "never" {
    when        = host.stack == "none"
    version     = "11.31.0"
    source      = "/nonexistent/PlatformServer.exe"
  }
  task "installer" "late" {
    version     = "11.31.0"
    source      = host.name == "fe04" ? task.command.find.stdout : null
    script      = host.zone == "lisbon" ? "`+tf.j2eeSh+`" : null
    remote_path = host.zone == "porto" && host.name != "fe04" ? "https://files.example/PlatformServer.exe" : null
    sha256      = host.zone == "porto" && host.name != "fe04" ? "`+sha256Hex("x")+`" : null
    install_dir = host.vars.home
  }
}
`)
	tf.pb = decodePlaybook(t, tf.inv, path, nil)
	r, err := preflight.Run(t.Context(), tf.pb, tf.inv, tf.opts)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || len(r.Artefacts) != 1 || r.Artefacts[0].Path != tf.j2eeSh {
		t.Fatalf("problems %v, artefacts %+v", r.Problems, r.Artefacts)
	}
	want := []string{
		"artefact fe04 task installer.late: source known only during the run, not checked",
		"artefact fe05 task installer.late: remote_path https://files.example/PlatformServer.exe is read by the host during the run, not checked",
		"artefact fe06 task installer.late: remote_path https://files.example/PlatformServer.exe is read by the host during the run, not checked",
		"artefact fe07 task installer.late: remote_path https://files.example/PlatformServer.exe is read by the host during the run, not checked",
	}
	if got := problemKeys(r.Notes); !slices.Equal(got, want) {
		t.Errorf("notes:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
