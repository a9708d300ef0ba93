package traffic

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// A few failed reads of the balancer do not stop the monitor; a balancer
// that stays unreadable does.
func TestSampleSurvivesMissedReads(t *testing.T) {
	tests := []struct {
		name     string
		failures int
		wantErr  bool
	}{
		{"a few missed reads", 3, false},
		{"unreadable balancer", maxSampleFailures + 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := NewMonitor(10)
				calls := 0
				read := func(context.Context) ([]InRotation, error) {
					calls++
					if calls <= tt.failures {
						return nil, errors.New("i/o timeout")
					}
					return []InRotation{{Member: "fe01", In: true}}, nil
				}
				ctx, cancel := context.WithTimeout(t.Context(), time.Duration(maxSampleFailures+5)*time.Second)
				defer cancel()
				err := m.Sample(ctx, time.Second, read)
				if tt.wantErr {
					if err == nil || errors.Is(err, context.DeadlineExceeded) {
						t.Fatalf("Sample = %v, want the balancer's error", err)
					}
					return
				}
				if !errors.Is(err, context.DeadlineExceeded) || calls <= tt.failures+1 {
					t.Fatalf("Sample = %v after %d reads; want it to keep sampling until the deadline", err, calls)
				}
			})
		})
	}
}
