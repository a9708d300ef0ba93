package runner

import (
	"reflect"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// KnownState tells each host's last known rotation, deployment and
// version from the record, by the finished steps' declared effects, and
// what it may differ by (steps in doubt, failed, or a restore since).
func TestKnownState(t *testing.T) {
	first, _ := loadLive(t, fmt3(livePlaybook, ""))
	_, evs := first.run(t, t.Context(), Options{RunID: "first"})
	withVersion, err := encodeOutput(map[string]cty.Value{"v": cty.StringVal("11.31"), "version_after": cty.StringVal("11.31.0.45003")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		record func(wave, host string) bool
		change func(rec record)
		want   map[string]HostKnown // by host; the others as fe01's with their name
	}{
		{
			name:   "finished",
			record: func(string, string) bool { return true },
			want: map[string]HostKnown{"fe01": {Rotation: "in", RotationBy: "probe.in", Deployment: "disabled", DeploymentBy: "probe.disable",
				UpgradedBy: "probe.install"}},
		},
		{
			name:   "stopped before the way back in",
			record: without("in"),
			change: func(rec record) {
				rec[stepKey{"upgrade", "probe.install", "fe02"}] = PriorStep{RunID: "first"} // in doubt
				rec[stepKey{"upgrade", "probe.install", "fe03"}] = PriorStep{Status: StatusFailed, RunID: "first"}
				p := rec[stepKey{"upgrade", "probe.install", "fe04"}]
				p.Output = withVersion
				rec[stepKey{"upgrade", "probe.install", "fe04"}] = p
				for k, p := range rec {
					if k.host == "fe01" {
						p.Undone = "restored"
						rec[k] = p
					}
				}
			},
			want: map[string]HostKnown{
				"fe01": {Rotation: "out", RotationBy: "probe.out", Deployment: "disabled", DeploymentBy: "probe.disable",
					UpgradedBy: "probe.install", Undone: true},
				"fe02": {Rotation: "out", RotationBy: "probe.out", Deployment: "disabled", DeploymentBy: "probe.disable", InDoubt: []string{"probe.install"}},
				"fe03": {Rotation: "out", RotationBy: "probe.out", Deployment: "disabled", DeploymentBy: "probe.disable", Failed: []string{"probe.install"}},
				"fe04": {Rotation: "out", RotationBy: "probe.out", Deployment: "disabled", DeploymentBy: "probe.disable",
					Version: "11.31.0.45003", UpgradedBy: "probe.install"},
			},
		},
		{
			name:   "nothing recorded",
			record: func(string, string) bool { return false },
			want:   map[string]HostKnown{"fe01": {}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := recordOf(evs, "first", tt.record)
			if tt.change != nil {
				tt.change(rec)
			}
			got, err := KnownState(first.pb, first.inv, nil, rec)
			if err != nil {
				t.Fatal(err)
			}
			var hosts []string
			for _, k := range got {
				hosts = append(hosts, k.Host)
				want, ok := tt.want[k.Host]
				if !ok {
					want = tt.want["fe01"]
				}
				want.Host = k.Host
				if !reflect.DeepEqual(k, want) {
					t.Errorf("%s:\n got %+v\nwant %+v", k.Host, k, want)
				}
			}
			if !reflect.DeepEqual(hosts, []string{"fe01", "fe02", "fe03", "fe04"}) {
				t.Errorf("hosts %v, want the playbook's, in inventory order", hosts)
			}
		})
	}
}
