package scapi_test

import (
	"errors"
	"testing"
	"time"

	"github.com/osrun/osrun/modules/approval"
	"github.com/osrun/osrun/modules/approval/approvaltest"
	"github.com/osrun/osrun/modules/scfrontend/scapi"
)

func TestOperatorAsksOncePerHost(t *testing.T) {
	gate := &approvaltest.Recorder{}
	op := &scapi.Operator{Gate: gate}
	if op.Confirmed("fe01") {
		t.Fatal("confirmed before asking")
	}
	if err := op.Confirm(t.Context(), "fe01", "step.fe01", "do it", time.Minute); err != nil {
		t.Fatal(err)
	}
	if !op.Confirmed("fe01") || op.Confirmed("fe02") {
		t.Errorf("Confirmed fe01 %v, fe02 %v; want only fe01", op.Confirmed("fe01"), op.Confirmed("fe02"))
	}
	if len(gate.IDs) != 1 || gate.IDs[0] != "step.fe01" || gate.Instructions[0] != "do it" {
		t.Errorf("asked %q %q", gate.IDs, gate.Instructions)
	}
}

func TestOperatorFailures(t *testing.T) {
	if err := (&scapi.Operator{}).Confirm(t.Context(), "fe01", "id", "", time.Minute); err == nil ||
		err.Error() != "the manual driver needs an approval gate, and this run has none" {
		t.Errorf("no gate: %v", err)
	}
	op := &scapi.Operator{Gate: &approvaltest.Recorder{Err: approval.ErrDenied}}
	if err := op.Confirm(t.Context(), "fe01", "id", "", time.Minute); !errors.Is(err, approval.ErrDenied) || op.Confirmed("fe01") {
		t.Errorf("denied: %v, confirmed %v", err, op.Confirmed("fe01"))
	}
}
