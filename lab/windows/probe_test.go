package windows_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/osrun/osrun/lab/windows"
	"github.com/osrun/osrun/modules/hostscript"
	"github.com/osrun/osrun/transports"
)

// The preflight's reach probe gets its word back from a lab Windows host.
func TestPreflightProbe(t *testing.T) {
	_, _, conn := dial(t, windows.Config{Name: "fe01", Password: "probe-Pa55", Version: "11.30.0"})
	var out, errOut bytes.Buffer
	probe := hostscript.IDPrefix + "preflight/probe\necho osrun-preflight"
	if err := conn.Run(t.Context(), &transports.Cmd{Command: probe, Stdout: &out, Stderr: &errOut}); err != nil {
		t.Fatalf("probe: %v\nstderr: %s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "osrun-preflight") {
		t.Errorf("stdout %q", out.String())
	}
}
