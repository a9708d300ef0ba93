package farm

import (
	"strings"
	"testing"
	"time"

	"github.com/osrun/osrun/lab/traffic"
)

func TestVerdict(t *testing.T) {
	good := FrontendResult{Name: "fe01", Zone: "zone1", Stack: "dotnet", Controller: true, Before: "11.30.0", After: "11.31.0",
		Serving: "11.31.0", LB: "UP", InRotation: true, DeploymentEnabled: true, DeployerRunning: true, SC: "fe01: ..."}
	tests := []struct {
		name     string
		v        Verdict
		ok       bool
		upgraded bool
		want     string
	}{
		{"clean and upgraded", Verdict{Traffic: traffic.Report{Sent: 10, OK: 10}, Frontends: []FrontendResult{good}}, true, true,
			"lab verdict: PASS: 10 requests sent, 0 failed, 0 invariant violations"},
		{"a failed request", Verdict{Traffic: traffic.Report{Sent: 10, OK: 9, Failed: 1}, Frontends: []FrontendResult{good}}, false, true,
			"lab verdict: FAIL: 10 requests sent, 1 failed"},
		{"a violation", Verdict{Traffic: traffic.Report{Sent: 10, OK: 10, Violations: []traffic.Violation{{Member: "fe01", Reason: "down", From: time.Now()}}}, Frontends: []FrontendResult{good}}, false, true,
			"1 invariant violations"},
		{"a lab problem", Verdict{Traffic: traffic.Report{Sent: 1, OK: 1}, Frontends: []FrontendResult{good}, Problems: []string{"app server fe01: up: address in use"}}, false, true,
			"lab problem: app server fe01"},
		{"left out of rotation", Verdict{Traffic: traffic.Report{Sent: 1, OK: 1}, Frontends: []FrontendResult{func() FrontendResult { r := good; r.InRotation, r.LB = false, "MAINT"; return r }()}}, true, false,
			"MAINT, out of rotation"},
		{"still down", Verdict{Traffic: traffic.Report{Sent: 1, OK: 1}, Frontends: []FrontendResult{func() FrontendResult { r := good; r.Down = true; return r }()}}, true, false,
			"  fe01 (controller)  zone1  dotnet  11.30.0         11.31.0  down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.v.OK(); got != tt.ok {
				t.Errorf("OK() = %v", got)
			}
			if got, _ := tt.v.Upgraded("11.31.0"); got != tt.upgraded {
				t.Errorf("Upgraded() = %v", got)
			}
			if s := tt.v.String(); !strings.Contains(s, tt.want) {
				t.Errorf("String() lacks %q:\n%s", tt.want, s)
			}
		})
	}
}
