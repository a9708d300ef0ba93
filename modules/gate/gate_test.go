package gate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
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

var errTerminal = errors.New("terminal input ended")

// heldGate answers each question when the test says so.
type heldGate struct {
	mu      sync.Mutex
	asked   int
	answers chan error
}

func (h *heldGate) Wait(ctx context.Context, id, _ string) error {
	h.mu.Lock()
	h.asked++
	h.mu.Unlock()
	select {
	case err := <-h.answers:
		return err
	case <-ctx.Done():
		return fmt.Errorf("gate %s: %w", id, approval.ErrTimeout)
	}
}

func (h *heldGate) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.asked
}

// TestOneQuestionPerGate: the hosts of a batch run a gate at once; the
// person is asked once, and an approval holds for later batches.
func TestOneQuestionPerGate(t *testing.T) {
	tests := []struct {
		name       string
		answer     error
		wantAsked  int // questions once the batch waits
		wantLater  int // questions once a later batch waits too
		wantErrors bool
	}{
		{name: "approved", answer: nil, wantAsked: 1, wantLater: 1},
		{name: "denied", answer: approval.ErrDenied, wantAsked: 1, wantLater: 1, wantErrors: true},
		{name: "failed", answer: errTerminal, wantAsked: 1, wantLater: 2, wantErrors: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := &heldGate{answers: make(chan error, 1)}
				def := Definition(Options{Gate: h})
				apply := func(ctx context.Context) error {
					a, err := def.New(modules.Args{"id": cty.StringVal("upgrade_loaded"), "instructions": cty.StringVal("look")})
					if err != nil {
						return err
					}
					_, err = a.Apply(ctx, &modules.Env{})
					return err
				}
				const hosts = 5
				errs := make(chan error, hosts)
				for range hosts {
					go func() { errs <- apply(t.Context()) }()
				}
				synctest.Wait() // every host is waiting
				if got := h.count(); got != 1 {
					t.Fatalf("%d hosts asked %d questions, want 1", hosts, got)
				}
				h.answers <- tt.answer
				for range hosts {
					if err := <-errs; (err != nil) != tt.wantErrors || (tt.wantErrors && !errors.Is(err, tt.answer)) {
						t.Errorf("a host's gate = %v, want %v", err, tt.answer)
					}
				}

				// A later batch: asks again only if nobody answered.
				later := make(chan error, 1)
				go func() { later <- apply(t.Context()) }()
				synctest.Wait()
				if got := h.count(); got != tt.wantLater {
					t.Errorf("after a later batch: %d questions, want %d", got, tt.wantLater)
				}
				if tt.wantLater > tt.wantAsked {
					h.answers <- nil
				}
				if err := <-later; (err != nil) != (tt.answer == approval.ErrDenied) {
					t.Errorf("the later batch's gate = %v", err)
				}
			})
		})
	}
}

// TestWaitingHostKeepsItsOwnTime: a host that joined a question asked by
// another host keeps its own timeout; when the asker's runs out first, the
// question is asked again for the time left.
func TestWaitingHostKeepsItsOwnTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &heldGate{answers: make(chan error, 1)}
		g := newAsks(h)
		short, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		first := make(chan error, 1)
		go func() { first <- g.Wait(short, "g", "") }()
		synctest.Wait()
		second := make(chan error, 1)
		go func() { second <- g.Wait(t.Context(), "g", "") }()
		synctest.Wait()
		if got := h.count(); got != 1 {
			t.Fatalf("questions = %d, want 1", got)
		}
		time.Sleep(time.Minute) // the fake clock: the first host's time runs out
		if err := <-first; !errors.Is(err, approval.ErrTimeout) {
			t.Fatalf("first host = %v, want a timeout", err)
		}
		synctest.Wait()
		if got := h.count(); got != 2 {
			t.Fatalf("questions = %d, want the second host to ask again", got)
		}
		h.answers <- nil
		if err := <-second; err != nil {
			t.Fatalf("second host = %v, want approved", err)
		}
	})
}

// A gate answered earlier in the run (an earlier batch) says so at once,
// without a "waiting for approval" line and without asking again.
func TestAnsweredGateSaysSo(t *testing.T) {
	for _, tt := range []struct {
		name    string
		gate    approval.Gate
		wantMsg string
		wantErr error
	}{
		{"approved", approval.Preapproved{"upgrade_loaded"}, "gate upgrade_loaded approved earlier in this run", nil},
		{"denied", &denyGate{}, "", approval.ErrDenied},
	} {
		t.Run(tt.name, func(t *testing.T) {
			def := Definition(Options{Gate: tt.gate})
			args := modules.Args{"id": cty.StringVal("upgrade_loaded"), "instructions": cty.StringVal("look first")}
			first, err := def.New(args)
			if err != nil {
				t.Fatal(err)
			}
			first.Apply(t.Context(), &modules.Env{})
			second, err := def.New(args)
			if err != nil {
				t.Fatal(err)
			}
			var progress []string
			res, err := second.Apply(t.Context(), &modules.Env{Progress: func(s string) { progress = append(progress, s) }})
			if !errors.Is(err, tt.wantErr) || res.Msg != tt.wantMsg || len(progress) != 0 {
				t.Errorf("second batch: %q, %v, progress %q", res.Msg, err, progress)
			}
			if d, ok := tt.gate.(*denyGate); ok && len(d.asked) != 1 {
				t.Errorf("asked %d times, want once", len(d.asked))
			}
		})
	}
}
