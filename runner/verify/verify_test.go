package verify

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// want is one expected diagnostic: its severity and summary, the line it
// points at, and words its detail must contain.
type want struct {
	severity hcl.DiagnosticSeverity
	summary  string
	line     string
	detail   []string
}

func (w want) String() string {
	return fmt.Sprintf("%s %q at %q with %q", sev(w.severity), w.summary, w.line, w.detail)
}

func sev(s hcl.DiagnosticSeverity) string {
	if s == hcl.DiagError {
		return "error"
	}
	return "warning"
}

func (w want) matches(src string, d *hcl.Diagnostic) bool {
	if d.Severity != w.severity || d.Summary != w.summary || subjectLine(src, d) != w.line {
		return false
	}
	for _, s := range w.detail {
		if !strings.Contains(d.Detail, s) {
			return false
		}
	}
	return true
}

func same(_ testing.TB, src string) string { return src }

func TestVerify(t *testing.T) {
	reg := testRegistry(t)
	inv := loadInventory(t, filepath.Join("testdata", "inventory.hcl"))
	base := readFile(t, filepath.Join("testdata", "upgrade.hcl"))

	tests := []struct {
		name   string
		mutate func(t testing.TB, src string) string
		limit  []string
		want   []want
	}{
		{
			name:   "the procedure",
			mutate: same,
		},
		{
			name: "a gate before the loaded set's upgrade changes nothing the verifier sees",
			mutate: func(t testing.TB, src string) string {
				return replace(t, src, "wave \"upgrade_loaded\" {\n", "wave \"upgrade_loaded\" {\n  gate = { instructions = \"Check the updating front-ends, then approve.\" }\n")
			},
		},
		{
			name: "swapped waves: the loaded set upgraded before the switch",
			mutate: func(t testing.TB, src string) string {
				return moveWaveBefore(t, src, "upgrade_loaded", "switch_in_updating")
			},
			want: []want{
				{hcl.DiagError, "Disruptive task on a host in rotation", `task "installer" "platform_loaded" {`,
					[]string{`wave "upgrade_loaded", batch 1 of 3`, "stops fe03 serving", "(in rotation,", "on fe05 in batch 2; on fe06 in batch 3."}},
				{hcl.DiagError, "Zone left without a serving front-end", `task "installer" "platform_loaded" {`,
					[]string{`wave "upgrade_loaded", batch 1 of 3`, `zone "lisbon"`, "dc01 out of rotation", "fe03 in rotation, deployment disabled, disrupted"}},
			},
		},
		{
			name: "missing drain",
			mutate: func(t testing.TB, src string) string {
				return removeTask(t, src, "lb_member", "out")
			},
			want: []want{
				{hcl.DiagError, "Disruptive task on a host in rotation", `task "service" "stop_iis" {`,
					[]string{`wave "upgrade_updating", batch 1 of 3, task service.stop_iis`, "stops dc01 serving", "on fe02 in batch 2."}},
				{hcl.DiagError, "Disruptive task on a host in rotation", `task "installer" "platform" {`,
					[]string{`wave "upgrade_updating", batch 1 of 3, task installer.platform`, "stops dc01 serving", "on fe02 in batch 2; on fe04 in batch 3."}},
			},
		},
		{
			name: "the drain only checks",
			mutate: func(t testing.TB, src string) string {
				return replace(t, src, "    state = \"disabled\"\n  }\n}\n\nwave \"disable", "    state = \"disabled\"\n    check_mode = true\n  }\n}\n\nwave \"disable")
			},
			want: []want{
				{hcl.DiagError, "Disruptive task on a host in rotation", `task "service" "stop_iis" {`, []string{"stops dc01 serving"}},
				{hcl.DiagError, "Disruptive task on a host in rotation", `task "installer" "platform" {`, []string{"stops dc01 serving"}},
			},
		},
		{
			name: "a disruptive task before the drain, on the hosts its when selects",
			mutate: func(t testing.TB, src string) string {
				return replace(t, src, "  task \"lb_member\" \"out\" {", `  task "service" "stop_iis_early" {
    when  = host.stack == "dotnet"
    name  = "W3SVC"
    state = "stopped"
  }

  task "lb_member" "out" {`)
			},
			want: []want{
				{hcl.DiagError, "Disruptive task on a host in rotation", `task "service" "stop_iis_early" {`,
					[]string{`wave "drain_updating", batch 1 of 1`, "stops dc01 serving", "on fe02 in batch 1."}},
			},
		},
		{
			name: "the controller upgraded before the loaded set is deployment-disabled",
			mutate: func(t testing.TB, src string) string {
				return moveWaveBefore(t, src, "disable_deployment_on_loaded", "switch_in_updating")
			},
			want: []want{
				{hcl.DiagError, "Controller upgraded while loaded front-ends accept deployments", `task "installer" "platform" {`,
					[]string{`wave "upgrade_updating", batch 1 of 3`, "controller dc01", "fe03, fe05 and fe06"}},
			},
		},
		{
			name: "the controller in the wrong wave",
			mutate: func(t testing.TB, src string) string {
				src = replace(t, src, "  hosts       = [group.controller, group.updating]\n", "  hosts       = group.updating\n  exclude     = [group.controller]\n")
				return replace(t, src, "  hosts  = group.loaded\n  serial = [\"50%\"]", "  hosts  = [group.loaded, group.controller]\n  serial = [\"50%\"]")
			},
			want: []want{
				{hcl.DiagError, "Front-end upgraded before the controller", `task "installer" "platform" {`,
					[]string{`wave "upgrade_updating", batch 1 of 2`, "fe02 is upgraded", "on fe04 in batch 2."}},
				{hcl.DiagError, "Front-end upgraded before the controller", `task "installer" "platform_loaded" {`,
					[]string{`wave "upgrade_loaded", batch 1 of 2`, "fe03 is upgraded", "on fe05 in batch 1; on fe06 in batch 2."}},
				{hcl.DiagError, "Disruptive task on a host in rotation", `task "installer" "platform_loaded" {`,
					[]string{`wave "upgrade_loaded", batch 2 of 2`, "stops dc01 serving"}},
			},
		},
		{
			name: "front-ends upgraded in the controller's batch",
			mutate: func(t testing.TB, src string) string {
				return replace(t, src, "  hosts       = [group.controller, group.updating]\n  serial      = 1\n", "  hosts       = [group.controller, group.updating]\n")
			},
			want: []want{
				{hcl.DiagError, "Front-end upgraded before the controller", `task "installer" "platform" {`,
					[]string{`wave "upgrade_updating", batch 1 of 1`, "fe02 is upgraded", "on fe04 in batch 1."}},
			},
		},
		{
			name: "deployment re-enabled before the loaded set is upgraded",
			mutate: func(t testing.TB, src string) string {
				return moveWaveBefore(t, src, "enable_deployment_on_loaded", "upgrade_loaded")
			},
			want: []want{
				{hcl.DiagError, "Deployment enabled before the front-end is upgraded", `task "sc_frontend" "enable" {`,
					[]string{`wave "enable_deployment_on_loaded", batch 1 of 1`, "loaded front-end fe03", "on fe05 in batch 1; on fe06 in batch 1."}},
			},
		},
		{
			name: "missing load-balancer re-enable at the end",
			mutate: func(t testing.TB, src string) string {
				return removeWave(t, src, "all_in")
			},
			want: []want{
				{hcl.DiagError, "Front-end left out of rotation", `task "lb_member" "out_loaded" {`,
					[]string{"fe03 is still out of rotation", `wave "switch_out_loaded", batch 1 of 1`, "on fe05; on fe06."}},
			},
		},
		{
			name: "missing Service Center re-enable at the end",
			mutate: func(t testing.TB, src string) string {
				return removeWave(t, src, "enable_deployment_on_loaded")
			},
			want: []want{
				{hcl.DiagError, "Front-end left with deployment disabled", `task "sc_frontend" "disable" {`,
					[]string{"fe03 still has deployment disabled", `wave "disable_deployment_on_loaded"`, "on fe05; on fe06."}},
			},
		},
		{
			name: "every front-end drained at once",
			mutate: func(t testing.TB, src string) string {
				return replace(t, src, "  hosts       = group.updating\n\n  task \"lb_member\" \"out\"", "  hosts       = group.frontends\n\n  task \"lb_member\" \"out\"")
			},
			want: []want{
				{hcl.DiagError, "Zone left without a serving front-end", `task "lb_member" "out" {`,
					[]string{`wave "drain_updating", batch 1 of 1`, `zone "lisbon"`, "fe03 leaving rotation"}},
				{hcl.DiagError, "Zone left without a serving front-end", `task "lb_member" "out" {`,
					[]string{`wave "drain_updating", batch 1 of 1`, `zone "porto"`, "fe06 leaving rotation"}},
			},
		},
		{
			name: "a switch that depends on an earlier result",
			mutate: func(t testing.TB, src string) string {
				return replace(t, src, "    state = \"disabled\"\n  }\n}\n\nwave \"upgrade_loaded\"", "    when  = task.sc_frontend.disable.changed\n    state = \"disabled\"\n  }\n}\n\nwave \"upgrade_loaded\"")
			},
			want: []want{
				{hcl.DiagWarning, "Could not verify task lb_member.out_loaded", `task "lb_member" "out_loaded" {`,
					[]string{"on fe03", "assumed it runs", "on fe05 in batch 1; on fe06 in batch 1."}},
			},
		},
		{
			name: "a switch on a result of a task that never runs on those hosts",
			mutate: func(t testing.TB, src string) string {
				return replace(t, src, "    state = \"disabled\"\n  }\n}\n\nwave \"upgrade_loaded\"", "    when  = task.lb_member.in.changed\n    state = \"disabled\"\n  }\n}\n\nwave \"upgrade_loaded\"")
			},
			want: []want{
				{hcl.DiagError, "Disruptive task on a host in rotation", `task "installer" "platform_loaded" {`,
					[]string{"stops fe03 serving"}},
			},
		},
		{
			name: "an effect that depends on an earlier result",
			mutate: func(t testing.TB, src string) string {
				return replace(t, src, "    url = \"http://${host.address}/\"\n  }\n", `    url = "http://${host.address}/"
  }

  task "lb_member" "maybe" {
    state = task.http_check.apps.failed ? "disabled" : "enabled"
  }
`)
			},
			want: []want{
				{hcl.DiagWarning, "Could not verify task lb_member.maybe", `task "lb_member" "maybe" {`,
					[]string{"argument state, not known before the run"}},
			},
		},
		{
			name: "an unknown argument the effect does not read",
			mutate: func(t testing.TB, src string) string {
				return replace(t, src, "  task \"installer\" \"platform_loaded\" {\n    version = var.target_version", "  task \"installer\" \"platform_loaded\" {\n    version = task.http_check.apps.msg")
			},
		},
		{
			name: "a drain whose failure is ignored",
			mutate: func(t testing.TB, src string) string {
				return replace(t, src, "    state = \"disabled\"\n  }\n}\n\nwave \"disable", "    state = \"disabled\"\n    ignore_errors = true\n  }\n}\n\nwave \"disable")
			},
			want: []want{
				{hcl.DiagWarning, "Could not verify task lb_member.out", `task "lb_member" "out" {`,
					[]string{"ignore_errors = true", "still in rotation"}},
			},
		},
		{
			name: "a when that cannot be evaluated",
			mutate: func(t testing.TB, src string) string {
				return replace(t, src, "    state = \"disabled\"\n  }\n}\n\nwave \"upgrade_loaded\"", "    when  = host.vars.pool == \"web\"\n    state = \"disabled\"\n  }\n}\n\nwave \"upgrade_loaded\"")
			},
			want: []want{
				{hcl.DiagWarning, "Could not verify task lb_member.out_loaded", `task "lb_member" "out_loaded" {`,
					[]string{"on fe03", "cannot be evaluated", "assumed it runs"}},
			},
		},
		{
			name: "on_failure waves that put back what the run changed",
			mutate: func(_ testing.TB, src string) string {
				return src + `
on_failure "restore_rotation" {
  hosts = group.frontends

  task "lb_member" "back_in" {
    when  = !task.lb_member.out.skipped || !task.lb_member.out_loaded.skipped
    state = "enabled"
  }
}

on_failure "restore_deployment" {
  hosts = group.loaded

  task "sc_frontend" "reenable" {
    when       = !task.sc_frontend.disable.skipped
    deployment = "enabled"
  }
}
`
			},
		},
		{
			name: "an on_failure wave that restarts every front-end at once",
			mutate: func(_ testing.TB, src string) string {
				return src + `
on_failure "restart_everything" {
  hosts = group.frontends

  task "service" "restart_iis" {
    name  = "W3SVC"
    state = "restarted"
  }
}
`
			},
			want: []want{
				{hcl.DiagError, "Disruptive task on a host in rotation", `task "service" "restart_iis" {`,
					[]string{`In on_failure wave "restart_everything", batch 1 of 1, task service.restart_iis, run after the run stopped at wave "drain_updating", batch 1 of 1, task lb_member.out`, "stops fe03 serving", `The same happens after a stop at wave "disable_deployment_on_loaded", batch 1, task sc_frontend.disable;`, "15 more times."}},
				{hcl.DiagError, "Zone left without a serving front-end", `task "service" "restart_iis" {`,
					[]string{`stopped at wave "drain_updating"`, `zone "lisbon"`, "15 more times."}},
				{hcl.DiagError, "Zone left without a serving front-end", `task "service" "restart_iis" {`,
					[]string{`stopped at wave "drain_updating"`, `zone "porto"`, "15 more times."}},
			},
		},
		{
			name:   "limited to the loaded set",
			mutate: same,
			limit:  []string{"loaded"},
		},
		{
			name:   "limited to the updating set",
			mutate: same,
			limit:  []string{"updating"},
			want: []want{
				{hcl.DiagError, "Controller upgraded while loaded front-ends accept deployments", `task "installer" "platform" {`,
					[]string{"fe03, fe05 and fe06"}},
			},
		},
		{
			name:   "an unknown limit",
			mutate: same,
			limit:  []string{"nope"},
			want: []want{
				{hcl.DiagError, "Cannot verify the plan", "", []string{`no host or group named "nope"`}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.mutate(t, base)
			pb := decode(t, src, inv, reg)
			diags := Verify(pb, inv, tc.limit)
			matched := make([]bool, len(tc.want))
		next:
			for _, d := range diags {
				for i, w := range tc.want {
					if !matched[i] && w.matches(src, d) {
						matched[i] = true
						continue next
					}
				}
				t.Errorf("unexpected %s: %s: %s [at %q]", sev(d.Severity), d.Summary, d.Detail, subjectLine(src, d))
			}
			for i, w := range tc.want {
				if !matched[i] {
					t.Errorf("missing %s", w)
				}
			}
		})
	}
}

func TestTrace(t *testing.T) {
	reg := testRegistry(t)
	inv := loadInventory(t, filepath.Join("testdata", "inventory.hcl"))
	pb := decodeFile(t, filepath.Join("testdata", "upgrade.hcl"), inv, reg)
	tr, diags := Simulate(pb, inv, nil)
	if len(diags) > 0 {
		t.Fatal(diags.Error())
	}
	// One step per task per batch: 1+1+3*3+1+1+1+3*1+2+1+1.
	if got, wantN := len(tr.Steps), 21; got != wantN {
		t.Errorf("%d steps, want %d", got, wantN)
	}
	state := func(farm []HostState, host string) HostState {
		for _, hs := range farm {
			if hs.Host == host {
				return hs
			}
		}
		t.Fatalf("no %s in the trace", host)
		return HostState{}
	}
	tests := []struct {
		wave, task string
		batch      int
		hosts      string
		host       string
		want       HostState
		serving    string
	}{
		{"drain_updating", "lb_member.out", 1, "dc01 fe02 fe04", "fe02",
			HostState{Host: "fe02", Zone: "lisbon", Frontend: true, DeploymentEnabled: true}, "map[lisbon:1 porto:2]"},
		{"upgrade_updating", "installer.platform", 1, "dc01", "dc01",
			HostState{Host: "dc01", Zone: "lisbon", Frontend: true, DeploymentEnabled: true, Disrupted: true}, "map[lisbon:1 porto:2]"},
		{"upgrade_updating", "installer.platform", 1, "dc01", "fe05",
			HostState{Host: "fe05", Zone: "porto", Frontend: true, InRotation: true}, "map[lisbon:1 porto:2]"},
		{"upgrade_updating", "service.stop_iis", 3, "", "fe04",
			HostState{Host: "fe04", Zone: "porto", Frontend: true, DeploymentEnabled: true}, "map[lisbon:1 porto:2]"},
		{"switch_in_updating", "lb_member.in", 1, "dc01 fe02 fe04", "dc01",
			HostState{Host: "dc01", Zone: "lisbon", Frontend: true, DeploymentEnabled: true, Upgraded: true}, "map[lisbon:1 porto:2]"},
		{"upgrade_loaded", "installer.platform_loaded", 2, "fe05", "fe05",
			HostState{Host: "fe05", Zone: "porto", Frontend: true, Disrupted: true}, "map[lisbon:2 porto:1]"},
	}
	for _, tc := range tests {
		t.Run(tc.wave+"/"+tc.task+"/"+tc.host, func(t *testing.T) {
			for _, st := range tr.Steps {
				if st.Wave != tc.wave || st.Task != tc.task || st.Batch != tc.batch {
					continue
				}
				if got := strings.Join(st.Hosts, " "); got != tc.hosts {
					t.Errorf("runs on %q, want %q", got, tc.hosts)
				}
				if got := state(st.Farm, tc.host); got != tc.want {
					t.Errorf("%s is %+v, want %+v", tc.host, got, tc.want)
				}
				if got, want := fmt.Sprint(st.Serving()), tc.serving; got != want {
					t.Errorf("serving %s, want %s", got, want)
				}
				return
			}
			t.Fatal("no such step")
		})
	}
	for _, hs := range tr.End {
		if !hs.InRotation || !hs.DeploymentEnabled || !hs.Upgraded || hs.Disrupted {
			t.Errorf("at the end %+v, want in rotation, deployment enabled and upgraded", hs)
		}
	}
}
