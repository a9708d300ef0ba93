package approval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestPreapproved(t *testing.T) {
	p := Preapproved{"sc_frontend.disable", "wait_deployer.fe01"}
	tests := []struct {
		id   string
		want bool
	}{
		{"sc_frontend.disable", true},
		{"sc_frontend.disable.fe03", true},
		{"sc_frontend.disabled.fe03", false},
		{"sc_frontend.enable.fe03", false},
		{"wait_deployer.fe01", true},
		{"wait_deployer.fe010", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			err := p.Wait(t.Context(), tt.id, "do it")
			if got := err == nil; got != tt.want {
				t.Fatalf("Wait(%q) = %v, want approved=%v", tt.id, err, tt.want)
			}
			if err != nil && !errors.Is(err, ErrUndecided) {
				t.Errorf("Wait(%q) = %v, want ErrUndecided", tt.id, err)
			}
		})
	}
	if err := (Preapproved{"*"}).Wait(t.Context(), "anything.at.all", ""); err != nil {
		t.Errorf(`"*" did not approve: %v`, err)
	}
}

// ttyAnswers runs one TTY Wait with the given input and returns its error
// and what it printed.
func ttyAnswers(t *testing.T, input string, closeAfter bool) (string, error) {
	t.Helper()
	pr, pw := io.Pipe()
	var out strings.Builder
	var mu sync.Mutex
	g := NewTTY(pr, lockedWriter{&mu, &out})
	done := make(chan error, 1)
	go func() {
		done <- g.Wait(t.Context(), "sc_frontend.disable.fe03", "Service Center » Administration » Servers » fe03 » Disable")
	}()
	// Wait until the question is asked before answering, as a person would.
	synctest.Wait()
	io.WriteString(pw, input)
	if closeAfter {
		pw.Close()
	}
	err := <-done
	pw.Close()
	mu.Lock()
	defer mu.Unlock()
	return out.String(), err
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestTTY(t *testing.T) {
	tests := []struct {
		name       string
		input      string
		closeAfter bool
		want       error // nil means approved
		prompts    int
	}{
		{"yes", "yes\n", false, nil, 1},
		{"y upper", " Y \n", false, nil, 1},
		{"no", "no\n", false, ErrDenied, 1},
		{"retry then yes", "maybe\nyes\n", false, nil, 2},
		{"eof", "", true, ErrUndecided, 1},
		{"yes then eof", "yes\n", true, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				out, err := ttyAnswers(t, tt.input, tt.closeAfter)
				if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
					t.Fatalf("Wait = %v, want %v", err, tt.want)
				}
				if !strings.Contains(out, "» fe03 » Disable") || !strings.Contains(out, "sc_frontend.disable.fe03") {
					t.Errorf("output lacks the instructions or gate id:\n%s", out)
				}
				if n := strings.Count(out, "[yes/no]"); n != tt.prompts {
					t.Errorf("prompted %d times, want %d:\n%s", n, tt.prompts, out)
				}
			})
		})
	}
}

func TestTTYIgnoresStrayAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pr, pw := io.Pipe()
		defer pw.Close()
		g := NewTTY(pr, io.Discard)
		// First question is answered, which starts the reader.
		go io.WriteString(pw, "yes\n")
		if err := g.Wait(t.Context(), "a", "first"); err != nil {
			t.Fatal(err)
		}
		// A "yes" typed while nothing is asked must not approve the next gate.
		io.WriteString(pw, "yes\n")
		synctest.Wait()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		err := g.Wait(ctx, "b", "second")
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("Wait after a stray yes = %v, want ErrTimeout", err)
		}
	})
}

// A question queued behind another must still end with its context, or
// Any could not return when an approval file answers it.
func TestTTYQueuedQuestionHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pr, pw := io.Pipe()
		defer pw.Close()
		g := NewTTY(pr, io.Discard)
		first := make(chan error, 1)
		go func() { first <- g.Wait(t.Context(), "first", "") }()
		synctest.Wait()
		ctx, cancel := context.WithCancel(t.Context())
		second := make(chan error, 1)
		go func() { second <- g.Wait(ctx, "second", "") }()
		synctest.Wait()
		cancel()
		if err := <-second; !errors.Is(err, context.Canceled) {
			t.Fatalf("queued Wait = %v, want context.Canceled", err)
		}
		io.WriteString(pw, "yes\n")
		if err := <-first; err != nil {
			t.Fatalf("first Wait = %v", err)
		}
	})
}

func TestFile(t *testing.T) {
	tests := []struct {
		name   string
		answer func(dir, id string) error
		want   error
	}{
		{"approved", Approve, nil},
		{"denied", Deny, ErrDenied},
		{"denied then approved", func(dir, id string) error {
			if err := Deny(dir, id); err != nil {
				return err
			}
			return Approve(dir, id)
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "approvals")
				var out strings.Builder
				g := &File{Dir: dir, Interval: time.Second, Out: &out, Command: "osrun approve run-1"}
				const id = "sc_frontend.disable.fe03"
				done := make(chan error, 1)
				start := time.Now()
				go func() { done <- g.Wait(t.Context(), id, "Disable fe03") }()
				synctest.Wait()
				pending, err := Pending(dir)
				if err != nil || pending[id] != "Disable fe03" {
					t.Fatalf("Pending = %v, %v; want the instructions under %s", pending, err, id)
				}
				// Fake time: the operator takes a while, and answers between two looks.
				time.Sleep(5500 * time.Millisecond)
				if err := tt.answer(dir, id); err != nil {
					t.Fatal(err)
				}
				err = <-done
				if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
					t.Fatalf("Wait = %v, want %v", err, tt.want)
				}
				if took := time.Since(start); took > 6*time.Second {
					t.Errorf("answer seen after %v, want within one interval", took)
				}
				if !strings.Contains(out.String(), "osrun approve run-1 "+id) {
					t.Errorf("output does not say how to approve:\n%s", out.String())
				}
				if p, _ := Pending(dir); len(p) != 0 {
					t.Errorf("still pending after the answer: %v", p)
				}
			})
		})
	}
}

func TestFileWithoutInstructions(t *testing.T) {
	dir := t.TempDir()
	Approve(dir, "g")
	var out strings.Builder
	g := &File{Dir: dir, Out: &out, Command: "osrun approve r1", NoInstructions: true}
	if err := g.Wait(t.Context(), "g", "secret steps"); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); strings.Contains(s, "secret steps") || !strings.Contains(s, "osrun approve r1 g") {
		t.Errorf("output = %q, want only how to approve", s)
	}
}

func TestFileTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Minute)
		defer cancel()
		err := (&File{Dir: dir}).Wait(ctx, "wait_deployer.fe03", "look")
		if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "wait_deployer.fe03") {
			t.Fatalf("Wait = %v, want a timeout naming the gate", err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("left files behind: %v", entries)
		}
	})
}

func TestRunDirStaysInside(t *testing.T) {
	for _, run := range []string{"..", ".", "../../etc", "a/b", `c:\x`} {
		got := RunDir("/state", run)
		if !strings.HasPrefix(got, "/state/approvals/") || strings.Count(got[len("/state/approvals/"):], "/") != 0 {
			t.Errorf("RunDir(%q) = %q, want a single name under /state/approvals", run, got)
		}
	}
}

func TestFileApprovalStaysForTheRun(t *testing.T) {
	dir := RunDir(t.TempDir(), "20261125T173000.000Z-abcdef")
	if err := Approve(dir, "x.y"); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := (&File{Dir: dir}).Wait(t.Context(), "x.y", ""); err != nil {
			t.Fatalf("Wait #%d = %v", i+1, err)
		}
	}
}

// gateFunc adapts a function to Gate.
type gateFunc func(ctx context.Context) error

func (f gateFunc) Wait(ctx context.Context, _, _ string) error { return f(ctx) }

func TestAny(t *testing.T) {
	blocks := gateFunc(func(ctx context.Context) error { <-ctx.Done(); return ctxErr(ctx, "g") })
	undecided := gateFunc(func(context.Context) error { return ErrUndecided })
	approves := gateFunc(func(context.Context) error { return nil })
	denies := gateFunc(func(context.Context) error { return ErrDenied })
	tests := []struct {
		name  string
		gates []Gate
		want  error
	}{
		{"pre-approved beats a waiting prompt", []Gate{blocks, Preapproved{"g"}}, nil},
		{"denial", []Gate{blocks, denies}, ErrDenied},
		{"undecided ignored while another approves", []Gate{undecided, approves}, nil},
		{"all undecided", []Gate{undecided, Preapproved{"other"}}, ErrUndecided},
		{"nobody answers", []Gate{undecided, blocks}, ErrTimeout},
		{"no gates", nil, ErrUndecided},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
				defer cancel()
				err := Any(tt.gates...).Wait(ctx, "g", "do it")
				if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
					t.Fatalf("Wait = %v, want %v", err, tt.want)
				}
			})
		})
	}
}

// Every answer other than an approval stops the run, through any wrapping
// (the runner looks for StopsRun), and is still told apart by errors.Is.
func TestRefusalsStopTheRun(t *testing.T) {
	stops := func(err error) bool {
		var s interface{ StopsRun() bool }
		return errors.As(err, &s) && s.StopsRun()
	}
	for _, sentinel := range []error{ErrDenied, ErrTimeout, ErrUndecided} {
		wrapped := fmt.Errorf("disable deployment on fe03: %w", fmt.Errorf("gate x: %w", sentinel))
		if !stops(wrapped) {
			t.Errorf("%q does not stop the run", wrapped)
		}
		if !errors.Is(wrapped, sentinel) {
			t.Errorf("errors.Is(%q, %q) = false", wrapped, sentinel)
		}
		for _, other := range []error{ErrDenied, ErrTimeout, ErrUndecided} {
			if other != sentinel && errors.Is(wrapped, other) {
				t.Errorf("%q reads as %q too", wrapped, other)
			}
		}
	}
	if stops(fmt.Errorf("gate x: %w", context.Canceled)) {
		t.Error("a cancelled run's error stops the run as a refusal")
	}
}
