package runner

import (
	"slices"
	"testing"
)

// priors is a Resume from a table.
type priors map[[3]string]PriorStep

func (p priors) Prior(wave, task, host string) (PriorStep, bool) {
	s, ok := p[[3]string{wave, task, host}]
	return s, ok
}

func TestNext(t *testing.T) {
	f := load(t, `
wave "out" {
  hosts  = group.web
  serial = 2
  task "probe" "a" {}
  task "probe" "b" {}
}
wave "up" {
  hosts = host.ctl
  task "probe" "c" {}
}
`)
	done := PriorStep{Status: StatusOK, RunID: "r1"}
	all := priors{}
	for _, h := range []string{"fe01", "fe02", "fe03", "fe04"} {
		all[[3]string{"out", "probe.a", h}] = done
		all[[3]string{"out", "probe.b", h}] = done
	}
	with := func(changes priors) priors {
		out := priors{}
		for k, v := range all {
			out[k] = v
		}
		for k, v := range changes {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name   string
		resume priors
		limit  []string
		want   *NextStep
	}{
		{"nothing ran", priors{}, nil, &NextStep{Wave: "out", Batch: 1, Task: "probe.a", Hosts: []string{"fe01", "fe02"}}},
		{
			"in doubt in the second batch",
			with(priors{{"out", "probe.b", "fe04"}: {}, {"out", "probe.b", "fe03"}: {Status: StatusFailed}}),
			nil,
			&NextStep{Wave: "out", Batch: 2, Task: "probe.b", Hosts: []string{"fe03", "fe04"}, InDoubt: []string{"fe04"}},
		},
		{"next wave", all, nil, &NextStep{Wave: "up", Batch: 1, Task: "probe.c", Hosts: []string{"ctl"}}},
		{"limited to done hosts", all, []string{"web"}, nil},
		{"skipped counts as done", with(priors{{"up", "probe.c", "ctl"}: {Status: StatusSkipped}}), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Next(f.pb, f.inv, tt.limit, tt.resume)
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tt.want == nil) || got != nil && (got.Wave != tt.want.Wave || got.Batch != tt.want.Batch ||
				got.Task != tt.want.Task || !slices.Equal(got.Hosts, tt.want.Hosts) || !slices.Equal(got.InDoubt, tt.want.InDoubt)) {
				t.Errorf("Next = %+v, want %+v", got, tt.want)
			}
		})
	}
}
