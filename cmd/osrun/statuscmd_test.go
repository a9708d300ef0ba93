package main

import (
	"testing"

	"github.com/osrun/osrun/runner"
	"github.com/osrun/osrun/runner/preflight"
)

func TestAgainstRecord(t *testing.T) {
	in := &preflight.Member{Found: true, State: "enabled", InRotation: true}
	out := &preflight.Member{Found: true, State: "disabled"}
	tests := []struct {
		name  string
		live  preflight.HostReport
		known runner.HostKnown
		want  string
	}{
		{
			name:  "nothing recorded",
			live:  preflight.HostReport{Version: "11.30.0", Member: in, Deployment: "enabled"},
			known: runner.HostKnown{},
			want:  "-",
		},
		{
			name:  "as recorded",
			live:  preflight.HostReport{Version: "11.31.0", Member: out, Deployment: "disabled"},
			known: runner.HostKnown{Rotation: "out", Deployment: "disabled", Version: "11.31.0"},
			want:  "as recorded",
		},
		{
			name:  "put back in rotation by hand",
			live:  preflight.HostReport{Member: in},
			known: runner.HostKnown{Rotation: "out", RotationBy: "lb_member.out"},
			want:  "DIFFERS: recorded out of rotation (lb_member.out), now in rotation",
		},
		{
			name:  "every kind differs",
			live:  preflight.HostReport{Version: "11.30.0", Member: out, Deployment: "enabled"},
			known: runner.HostKnown{Rotation: "in", RotationBy: "lb_member.in", Deployment: "disabled", DeploymentBy: "sc_frontend.off", Version: "11.31.0", UpgradedBy: "installer.up"},
			want:  "DIFFERS: recorded in rotation (lb_member.in), now out of rotation; recorded deployment disabled (sc_frontend.off), now enabled; recorded version 11.31.0 (installer.up), now 11.30.0",
		},
		{
			name:  "a member the pool does not have is not compared",
			live:  preflight.HostReport{Member: &preflight.Member{Found: false}},
			known: runner.HostKnown{Rotation: "out"},
			want:  "-",
		},
		{
			name:  "manual deployment and an upgrade without a version are not compared",
			live:  preflight.HostReport{Version: "11.31.0", Deployment: "manual, not checked"},
			known: runner.HostKnown{Deployment: "disabled", UpgradedBy: "installer.up"},
			want:  "-",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := againstRecord(&tt.live, tt.known); got != tt.want {
				t.Errorf("againstRecord = %q\nwant %q", got, tt.want)
			}
		})
	}
}
