package gate

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/approval"
)

type denyGate struct{ asked []string }

func (d *denyGate) Wait(_ context.Context, id, _ string) error {
	d.asked = append(d.asked, id)
	return approval.ErrDenied
}

func newAction(t *testing.T, g approval.Gate) modules.Action {
	t.Helper()
	a, err := Definition(Options{Gate: g}).New(modules.Args{
		"id": cty.StringVal("upgrade_loaded"), "instructions": cty.StringVal("look first"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestGate(t *testing.T) {
	env := &modules.Env{}
	tests := []struct {
		name    string
		gate    approval.Gate
		wantErr error
		wantMsg string
	}{
		{"approved up front", approval.Preapproved{"upgrade_loaded"}, nil, "gate upgrade_loaded approved"},
		{"denied", &denyGate{}, approval.ErrDenied, ""},
		{"no gate in this run", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := newAction(t, tt.gate).Apply(t.Context(), env)
			switch {
			case tt.gate == nil:
				if err == nil || !strings.Contains(err.Error(), "no way to ask") {
					t.Fatalf("Apply without a gate = %v", err)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Apply = %v, want %v", err, tt.wantErr)
				}
			default:
				if err != nil || !strings.HasPrefix(res.Msg, tt.wantMsg) || res.Changed {
					t.Fatalf("Apply = %+v, %v", res, err)
				}
			}
		})
	}
}

func TestGateTimesOutWithTheTask(t *testing.T) {
	dir := t.TempDir()
	a := newAction(t, &approval.File{Dir: dir, Interval: 10 * time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := a.Apply(ctx, &modules.Env{}); err == nil {
		t.Fatal("an unanswered gate must fail when the task's time is up")
	}
}

func TestCheckDoesNotWait(t *testing.T) {
	d := &denyGate{}
	res, err := newAction(t, d).Check(t.Context(), &modules.Env{})
	if err != nil || res.Changed || !strings.Contains(res.Msg, "would wait for approval of gate upgrade_loaded") || len(d.asked) != 0 {
		t.Fatalf("Check = %+v, %v (asked %v)", res, err, d.asked)
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"upgrade_loaded", true},
		{"sc_frontend.disable.fe03", true},
		{"zone-a.1", true},
		{strings.Repeat("a", MaxID), true},
		{"", false},
		{"1st", false},
		{".hidden", false},
		{"upgrade loaded", false},
		{"../escape", false},
		{"a/b", false},
		{strings.Repeat("a", MaxID+1), false},
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%.20q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestNewRefusesAnInvalidID(t *testing.T) {
	_, err := Definition(Options{}).New(modules.Args{"id": cty.StringVal("go now"), "instructions": cty.StringVal("x")})
	if err == nil || !strings.Contains(err.Error(), "cannot name a gate") {
		t.Fatalf("New with id %q = %v, want a refusal", "go now", err)
	}
}
