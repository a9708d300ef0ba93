package traffic_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/osrun/osrun/lab/traffic"
)

func TestMonitor(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type step struct {
		ms           int
		member       string
		rotation     *bool // set: a rotation change
		down, broken bool  // otherwise: a front-end change
	}
	in, out := true, false
	tests := []struct {
		name  string
		steps []step
		want  []string // member reason from-to(ms), to -1 when open
	}{
		{"drained before down: nothing", []step{
			{0, "fe01", &out, false, false}, {10, "fe01", nil, true, false}, {20, "fe01", nil, false, false}, {30, "fe01", &in, false, false},
		}, nil},
		{"down in rotation until the balancer notices", []step{
			{0, "fe01", nil, true, false}, {150, "fe01", &out, false, false}, {200, "fe01", nil, false, false}, {300, "fe01", &in, false, false},
		}, []string{"fe01 down 0-150"}},
		{"enabled before it is up", []step{
			{0, "fe02", &out, false, false}, {10, "fe02", nil, true, false}, {20, "fe02", &in, false, false}, {50, "fe02", nil, false, false},
		}, []string{"fe02 down 20-50"}},
		{"broken, then down, then fixed", []step{
			{0, "fe03", nil, false, true}, {10, "fe03", nil, true, true}, {20, "fe03", nil, false, false},
		}, []string{"fe03 broken 0-10", "fe03 down 10-20"}},
		{"still open", []step{
			{0, "fe04", nil, false, true},
		}, []string{"fe04 broken 0--1"}},
		{"members are independent", []step{
			{0, "fe01", &out, false, false}, {0, "fe02", nil, true, false}, {5, "fe01", nil, true, false}, {10, "fe02", &out, false, false},
		}, []string{"fe02 down 0-10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := traffic.NewMonitor(0)
			for _, s := range tt.steps {
				if s.rotation != nil {
					m.Rotation(at(s.ms), s.member, *s.rotation)
				} else {
					m.Frontend(at(s.ms), s.member, s.down, s.broken)
				}
			}
			vs, dropped := m.Violations()
			var got []string
			for _, v := range vs {
				to := -1
				if !v.To.IsZero() {
					to = int(v.To.Sub(t0) / time.Millisecond)
				}
				got = append(got, v.Member+" "+v.Reason+" "+itoa(int(v.From.Sub(t0)/time.Millisecond))+"-"+itoa(to))
			}
			if strings.Join(got, ";") != strings.Join(tt.want, ";") || dropped != 0 {
				t.Errorf("violations %q (dropped %d), want %q", got, dropped, tt.want)
			}
		})
	}
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestMonitorBounded(t *testing.T) {
	m := traffic.NewMonitor(2)
	now := time.Now()
	for i := range 5 {
		m.Frontend(now, "fe01", i%2 == 0, false)
	}
	vs, dropped := m.Violations()
	if len(vs) != 2 || dropped != 1 {
		t.Errorf("kept %d, dropped %d; want 2 and 1", len(vs), dropped)
	}
}

func TestMonitorSample(t *testing.T) {
	tests := []struct {
		name string
		// rotation per sample; down is set just before the second sample
		samples []bool
		want    int
	}{
		{"drained between samples, then stopped: not a violation", []bool{true, false, false}, 0},
		{"stopped while still seen in rotation: a violation", []bool{true, true, false}, 1},
		{"never taken out: an open violation", []bool{true, true, true}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := traffic.NewMonitor(0)
				ctx, cancel := context.WithCancel(t.Context())
				calls := 0
				read := func(context.Context) ([]traffic.InRotation, error) {
					calls++
					if calls > len(tt.samples) {
						cancel()
						return nil, ctx.Err()
					}
					if calls == 2 {
						m.Frontend(time.Now(), "fe01", true, false)
					}
					return []traffic.InRotation{{Member: "fe01", In: tt.samples[calls-1]}, {Member: "fe02", In: true}}, nil
				}
				if err := m.Sample(ctx, 10*time.Millisecond, read); !errors.Is(err, context.Canceled) {
					t.Fatalf("Sample = %v", err)
				}
				if vs, _ := m.Violations(); len(vs) != tt.want {
					t.Errorf("violations %v, want %d", vs, tt.want)
				}
			})
		})
	}
}
