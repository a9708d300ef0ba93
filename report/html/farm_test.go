package html

import (
	"cmp"
	"slices"
	"time"

	"github.com/osrun/osrun/runner"
)

// The synthetic run the report tests render: the balanced upgrade of a
// four front-end farm in three waves, where fe04's installer fails.

var farmStart = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

const farmRunID = "20261125T030000-7f3a"

type hostRun struct {
	host     string
	dur      time.Duration
	status   runner.Status
	msg, err string
	progress []string
}

type stream struct {
	t   time.Time
	evs []runner.Event
}

func (s *stream) emit(e runner.Event) {
	if e.Time.IsZero() {
		e.Time = s.t
	}
	e.RunID = farmRunID
	s.evs = append(s.evs, e)
}

// task runs one task on a batch's hosts in parallel, as the runner does:
// every host starts together, progress lines spread over each host's run,
// and the task ends when the slowest host does.
func (s *stream) task(base runner.Event, task, module string, runs ...hostRun) {
	base.Task, base.Module = task, module
	ev := base
	ev.Kind = runner.TaskStart
	for _, r := range runs {
		ev.Hosts = append(ev.Hosts, r.host)
	}
	s.emit(ev)
	start := s.t
	var batch []runner.Event
	var longest time.Duration
	for _, r := range runs {
		e := base
		e.Kind, e.Host, e.Time = runner.HostTaskStart, r.host, start
		batch = append(batch, e)
		for i, p := range r.progress {
			e := base
			e.Kind, e.Host, e.Msg = runner.Progress, r.host, p
			e.Time = start.Add(r.dur * time.Duration(i+1) / time.Duration(len(r.progress)+1))
			batch = append(batch, e)
		}
		e = base
		e.Kind, e.Host, e.Time = runner.HostTaskEnd, r.host, start.Add(r.dur)
		e.Status, e.Duration, e.Msg, e.Error = r.status, r.dur, r.msg, r.err
		batch = append(batch, e)
		longest = max(longest, r.dur)
	}
	slices.SortStableFunc(batch, func(a, b runner.Event) int { return a.Time.Compare(b.Time) })
	for _, e := range batch {
		s.emit(e)
	}
	s.t = start.Add(longest + 200*time.Millisecond)
	ev = base
	ev.Kind, ev.Duration = runner.TaskEnd, s.t.Sub(start)
	s.emit(ev)
}

// upgrade is the four tasks that take one batch of front-ends through the
// upgrade; fail makes the installer fail on that host.
func (s *stream) upgrade(base runner.Event, hosts []string, fail string) {
	var drain, install, restart, enable []hostRun
	for i, h := range hosts {
		spread := time.Duration(i) * 7 * time.Second
		drain = append(drain, hostRun{host: h, dur: 40*time.Second + spread, status: runner.StatusChanged,
			msg:      h + " enabled -> disabled (0 sessions)",
			progress: []string{"draining " + h + ": 12 sessions left (10s of 5m0s)", "draining " + h + ": 3 sessions left (20s of 5m0s)"}})
		run := hostRun{host: h, dur: 4*time.Minute + 2*spread, status: runner.StatusChanged,
			msg:      "upgraded 11.29.1 → 11.31.0",
			progress: []string{"uploading PlatformServer-11.31.0.exe (812 MiB)", "installer running", "running the Configuration Tool"}}
		if h == fail {
			run.dur, run.status, run.msg = 2*time.Minute+31*time.Second, runner.StatusFailed, ""
			run.err = "installer.platform: PlatformServer-11.31.0.exe exited with status 1603\n" +
				"--- tail of Installer.log ---\n" +
				"MSI (s) (A4:2C) [03:14:09:881]: Product: OutSystems Platform Server -- Installation failed.\n" +
				"Error 1722. <script>alert('pwned')</script> & \"quotes\"\n" +
				"MSI (s) (A4:2C): Windows Installer installed the product. Error status: 1603."
		}
		install = append(install, run)
	}
	s.task(base, "lb_member.drain", "lb_member", drain...)
	s.task(base, "installer.platform", "installer", install...)
	for _, h := range hosts {
		if h == fail {
			continue
		}
		restart = append(restart, hostRun{host: h, dur: 18 * time.Second, status: runner.StatusChanged, msg: "OutSystems services restarted"})
		enable = append(enable, hostRun{host: h, dur: 12 * time.Second, status: runner.StatusChanged,
			msg:      h + " disabled -> enabled (0 sessions)",
			progress: []string{"waiting for the health check of " + h + ": L7STS/503"}})
	}
	s.task(base, "service.restart", "service", restart...)
	s.task(base, "lb_member.enable", "lb_member", enable...)
}

func (s *stream) wave(num int, name, desc string, hosts []string, batches [][]string, body func(base runner.Event, batch []string)) {
	base := runner.Event{Wave: name, WaveNum: num, Waves: 3, Batches: len(batches)}
	start := s.t
	ev := base
	ev.Kind, ev.Hosts, ev.Msg = runner.WaveStart, hosts, desc
	s.emit(ev)
	for i, b := range batches {
		bb := base
		bb.Batch = i + 1
		ev := bb
		ev.Kind, ev.Hosts = runner.BatchStart, b
		s.emit(ev)
		bstart := s.t
		body(bb, b)
		ev = bb
		ev.Kind, ev.Duration, ev.Status = runner.BatchEnd, s.t.Sub(bstart), runner.StatusOK
		s.emit(ev)
		s.t = s.t.Add(time.Second)
	}
	ev = base
	ev.Kind, ev.Duration, ev.Status = runner.WaveEnd, s.t.Sub(start), runner.StatusOK
	if name == "loaded" {
		ev.Status, ev.Msg = runner.StatusFailed, "1 of 2 hosts failed"
	}
	s.emit(ev)
	s.t = s.t.Add(2 * time.Second)
}

// farmEvents returns the run's events and its recap.
func farmEvents() ([]runner.Event, *runner.Recap) {
	s := &stream{t: farmStart}
	all := []string{"fe01", "fe02", "fe03", "fe04"}
	s.emit(runner.Event{Kind: runner.RunStart, Waves: 3, Hosts: all})
	s.t = s.t.Add(2 * time.Second) // loading, checking the farm lock
	s.wave(1, "updating", "Upgrade the updating front-ends one by one", []string{"fe01", "fe02"}, [][]string{{"fe01"}, {"fe02"}},
		func(base runner.Event, batch []string) { s.upgrade(base, batch, "") })
	s.wave(2, "loaded", "Upgrade the loaded front-ends together", []string{"fe03", "fe04"}, [][]string{{"fe03", "fe04"}},
		func(base runner.Event, batch []string) { s.upgrade(base, batch, "fe04") })
	s.wave(3, "verify", "Smoke-test every front-end still in the run", all, [][]string{{"fe01", "fe02", "fe03"}},
		func(base runner.Event, batch []string) {
			var smoke, warm []hostRun
			for _, h := range batch {
				smoke = append(smoke, hostRun{host: h, dur: 3 * time.Second, status: runner.StatusOK, msg: "GET /server.api/v1/health 200"})
				st := runner.StatusChanged
				if h == "fe02" {
					st = runner.StatusSkipped
				}
				warm = append(warm, hostRun{host: h, dur: 25 * time.Second, status: st})
			}
			s.task(base, "http.smoke_test", "http", smoke...)
			s.task(base, "command.warm_up", "command", warm...)
		})
	s.emit(runner.Event{Kind: runner.RunEnd, Status: runner.StatusFailed, Msg: "failed", Duration: s.t.Sub(farmStart)})

	recap := &runner.Recap{RunID: farmRunID, Outcome: runner.OutcomeFailed, Duration: s.t.Sub(farmStart)}
	count := map[string]*runner.HostRecap{}
	recap.Hosts = make([]runner.HostRecap, len(all))
	for i, h := range all {
		recap.Hosts[i].Host = h
		count[h] = &recap.Hosts[i]
	}
	for _, e := range s.evs {
		if e.Kind != runner.HostTaskEnd {
			continue
		}
		r := count[e.Host]
		switch e.Status {
		case runner.StatusOK:
			r.OK++
		case runner.StatusChanged:
			r.Changed++
		case runner.StatusSkipped:
			r.Skipped++
		case runner.StatusFailed:
			r.Failed++
			r.FailedTask, r.Error = e.Task, e.Error
		}
	}
	return s.evs, recap
}

// timeOrdered reports whether events come in time order, as the runner
// emits them.
func timeOrdered(evs []runner.Event) bool {
	return slices.IsSortedFunc(evs, func(a, b runner.Event) int { return cmp.Compare(a.Time.UnixNano(), b.Time.UnixNano()) })
}
