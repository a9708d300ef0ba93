package windowsnlb

import (
	"path/filepath"
	"testing"

	"github.com/osrun/osrun/modules/hostscript"
	"github.com/osrun/osrun/modules/hostscript/hostscripttest"
)

// TestGolden renders every script the driver can send; the golden files
// are what a reviewer reads (go test -update rewrites them).
func TestGolden(t *testing.T) {
	cases := []struct {
		file, tmpl string
		data       scriptData
	}{
		{"status.ps1", "status.ps1", scriptData{}},
		{"status_interface.ps1", "status.ps1", scriptData{Interface: "Ethernet 2"}},
		{"start.ps1", "start.ps1", scriptData{Node: "fe01"}},
		{"drain.ps1", "drain.ps1", scriptData{Node: "fe01", WaitSeconds: 30}},
		{"stop_drain.ps1", "stop.ps1", scriptData{Node: "fe01", Drain: true, Minutes: 10}},
		{"stop_now.ps1", "stop.ps1", scriptData{Node: "fe01"}},
		{"start_quote.ps1", "start.ps1", scriptData{Node: "fe'01$(evil)", Interface: "NLB ‘a’"}},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.tmpl] = true
		t.Run(c.file, func(t *testing.T) {
			got, err := scripts.Render(c.tmpl, c.data)
			if err != nil {
				t.Fatal(err)
			}
			if id := hostscript.ID(got); id != "lb_member/windows_nlb_"+c.tmpl[:len(c.tmpl)-len(".ps1")] {
				t.Errorf("id line %q", id)
			}
			hostscripttest.Golden(t, filepath.Join("testdata", "golden", c.file), got)
		})
	}
	hostscripttest.AllCovered(t, scripts.Names(), covered)
}

// A value no PowerShell string can carry is refused before anything runs.
func TestRenderRefusesNUL(t *testing.T) {
	if _, err := scripts.Render("start.ps1", scriptData{Node: "fe\x0001"}); err == nil {
		t.Error("a node name with a NUL byte rendered")
	}
}
