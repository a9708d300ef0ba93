package approval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultInterval is how often a File gate looks for an answer.
const DefaultInterval = 2 * time.Second

// File waits for an answer written to a directory by another process:
// `osrun approve <run> <gate>` calls Approve (or Deny) on the run's approval
// directory. While it waits, the gate leaves "<gate>.pending" holding the
// instructions, so the other shell can list what is being asked.
// An approval stays valid for the rest of the run: asking the same gate
// again returns at once.
type File struct {
	// Dir is the run's approval directory, created if missing.
	Dir string
	// Interval between looks; DefaultInterval when zero.
	Interval time.Duration
	// Out, when set, receives the instructions and how to approve.
	Out io.Writer
	// Command is how the operator approves, without the gate id, e.g.
	// "osrun approve 20261125T1730-upgrade". Shown on Out.
	Command string
	// NoInstructions leaves the instructions to another gate that shows
	// them (a TTY asking at the same time); Out then only says how to
	// approve from another shell.
	NoInstructions bool
}

// RunDir is where the approvals of run runID live under an osrun state
// directory: "osrun apply" gives it to its File gate and "osrun approve
// <run> <gate>" to Approve, so both sides agree on one layout.
func RunDir(stateDir, runID string) string {
	return filepath.Join(stateDir, "approvals", fileName(runID))
}

// fileName maps a gate id to a file name that is safe on every OS.
func fileName(id string) string {
	if strings.Trim(id, ".") == "" {
		return strings.Repeat("_", len(id)) // never "." or "..": a name, not a way out
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, id)
}

// Approve records an approval of gate id in dir.
func Approve(dir, id string) error { return answer(dir, id, ".approved", ".denied") }

// Deny records a denial of gate id in dir; the waiting run stops.
func Deny(dir, id string) error { return answer(dir, id, ".denied", ".approved") }

// answer records suffix and withdraws the opposite answer, so the latest
// one counts.
func answer(dir, id, suffix, opposite string) error {
	if id == "" {
		return errors.New("record approval: empty gate id")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("record answer to gate %s: %w", id, err)
	}
	// Write then rename, so the waiting run never sees a half-written file.
	tmp, err := os.CreateTemp(dir, ".answer-*")
	if err != nil {
		return fmt.Errorf("record answer to gate %s: %w", id, err)
	}
	fmt.Fprintf(tmp, "%s\n", time.Now().UTC().Format(time.RFC3339))
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("record answer to gate %s: %w", id, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, fileName(id)+suffix)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("record answer to gate %s: %w", id, err)
	}
	if err := os.Remove(filepath.Join(dir, fileName(id)+opposite)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("record answer to gate %s: %w", id, err)
	}
	return nil
}

// Pending lists the gate ids a run in dir is waiting for, with their
// instructions.
func Pending(dir string) (map[string]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("list pending approvals: %w", err)
	}
	out := map[string]string{}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".pending")
		if !ok {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // answered and removed meanwhile
		}
		out[name] = string(b)
	}
	return out, nil
}

// Wait waits until the gate is approved or denied, or ctx ends.
func (f *File) Wait(ctx context.Context, id, instructions string) error {
	if f.Dir == "" {
		return fmt.Errorf("gate %s: no approval directory: %w", id, ErrUndecided)
	}
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return fmt.Errorf("gate %s: %w", id, err)
	}
	base := filepath.Join(f.Dir, fileName(id))
	if err := os.WriteFile(base+".pending", []byte(instructions), 0o600); err != nil {
		return fmt.Errorf("gate %s: %w", id, err)
	}
	defer os.Remove(base + ".pending")
	if f.Out != nil && !f.NoInstructions {
		fmt.Fprintf(f.Out, "\n== approval needed: %s ==\n%s\n", id, strings.TrimRight(instructions, "\n"))
	}
	if f.Out != nil && f.Command != "" {
		fmt.Fprintf(f.Out, "When done, run from another shell:  %s %s\n", f.Command, id)
	}
	interval := f.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		switch decided, err := f.look(base, id); {
		case err != nil:
			return err
		case decided:
			return nil
		}
		select {
		case <-ctx.Done():
			return ctxErr(ctx, id)
		case <-tick.C:
		}
	}
}

// look reports decided=true when approved, and an error when denied or the
// directory cannot be read.
func (f *File) look(base, id string) (decided bool, err error) {
	if _, err := os.Stat(base + ".denied"); err == nil {
		return false, fmt.Errorf("gate %s: %w", id, ErrDenied)
	}
	switch _, err := os.Stat(base + ".approved"); {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("gate %s: %w", id, err)
	}
}
