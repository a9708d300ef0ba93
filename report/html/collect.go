package html

import (
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/osrun/osrun/runner"
)

// Collector gathers a run's events and the extra inputs of the report. It
// is safe for concurrent use: the lab may feed traffic counters while the
// runner emits events.
type Collector struct {
	mu   sync.Mutex
	cfg  config
	run  runInfo
	host map[string]*hostInfo
	// hosts keeps the hosts in the order of the run's RunStart, then in
	// order of appearance, so the report does not depend on map order.
	hosts   []string
	waves   []*waveInfo
	bars    []*bar
	open    map[barKey]*bar
	recap   *runner.Recap
	traffic *traffic
	first   time.Time // earliest time seen, the timeline's origin
	last    time.Time // latest time seen
}

type config struct {
	playbook  string
	inventory string
	tail      int
}

// Option configures a Collector.
type Option func(*config)

// WithPlaybook names the playbook in the report's header.
func WithPlaybook(path string) Option { return func(c *config) { c.playbook = path } }

// WithInventory names the inventory in the report's header.
func WithInventory(path string) Option { return func(c *config) { c.inventory = path } }

// WithTailLines sets how many of a task's last progress lines are kept and
// shown with its failure (default 20).
func WithTailLines(n int) Option { return func(c *config) { c.tail = max(n, 0) } }

type runInfo struct {
	title    string
	id       string
	check    bool
	started  bool
	start    time.Time
	ended    bool
	outcome  string
	status   runner.Status
	duration time.Duration
}

type hostInfo struct {
	versions        versions
	explicitVersion bool
	rotation        []rotation
	explicitRot     bool
}

type versions struct{ before, after string }

type rotation struct {
	t     time.Time
	state string
	seq   int // order of arrival, to keep equal times stable
}

type waveInfo struct {
	name, desc string
	num        int
	hosts      []string
	batches    int
	start, end time.Time
	ended      bool
	status     runner.Status
	msg        string
}

type barKey struct{ wave, task, host string }

// bar is one task on one host.
type bar struct {
	wave, task, host string
	batch            int
	start, end       time.Time
	ended            bool
	status           runner.Status
	ignored          bool
	attempt          int
	duration         time.Duration
	msg, err         string
	tail             []string
}

type traffic struct{ sent, failed int }

// New returns a collector; title heads the report (e.g. "Upgrade to 11.31").
func New(title string, opts ...Option) *Collector {
	c := &Collector{
		cfg:  config{tail: 20},
		host: map[string]*hostInfo{},
		open: map[barKey]*bar{},
	}
	c.run.title = title
	for _, o := range opts {
		o(&c.cfg)
	}
	return c
}

// Emit records one event.
func (c *Collector) Emit(e runner.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.see(e.Time)
	if e.RunID != "" {
		c.run.id = e.RunID
	}
	c.run.check = c.run.check || e.Check
	for _, h := range e.Hosts {
		c.hostInfo(h)
	}
	if e.Host != "" {
		c.hostInfo(e.Host)
	}
	switch e.Kind {
	case runner.RunStart:
		c.run.started, c.run.start = true, e.Time
	case runner.RunEnd:
		c.run.ended = true
		c.run.status, c.run.outcome, c.run.duration = e.Status, e.Msg, e.Duration
	case runner.WaveStart:
		c.waves = append(c.waves, &waveInfo{name: e.Wave, desc: e.Msg, num: e.WaveNum, hosts: e.Hosts, batches: e.Batches, start: e.Time})
	case runner.WaveEnd:
		if w := c.wave(e); w != nil {
			w.ended, w.end, w.status, w.msg = true, e.Time, e.Status, e.Msg
		}
	case runner.HostTaskStart:
		b := &bar{wave: e.Wave, task: e.Task, host: e.Host, batch: e.Batch, start: e.Time}
		c.bars = append(c.bars, b)
		c.open[barKey{e.Wave, e.Task, e.Host}] = b
	case runner.Progress:
		b := c.open[barKey{e.Wave, e.Task, e.Host}]
		if b != nil && c.cfg.tail > 0 {
			b.tail = append(b.tail, e.Msg)
			if len(b.tail) > c.cfg.tail {
				b.tail = b.tail[len(b.tail)-c.cfg.tail:]
			}
		}
		if e.Module == "lb_member" && !e.Check {
			if st := progressRotation(e.Msg); st != "" {
				c.inferRotation(e.Host, e.Time, st)
			}
		}
	case runner.HostTaskEnd:
		k := barKey{e.Wave, e.Task, e.Host}
		b := c.open[k]
		if b == nil {
			// No HostTaskStart: the task is known only by its end.
			b = &bar{wave: e.Wave, task: e.Task, host: e.Host, batch: e.Batch, start: e.Time.Add(-e.Duration)}
			c.see(b.start)
			c.bars = append(c.bars, b)
		}
		delete(c.open, k)
		b.ended, b.end, b.status, b.ignored = true, e.Time, e.Status, e.Ignored
		b.attempt, b.duration, b.msg, b.err = e.Attempt, e.Duration, e.Msg, e.Error
		if e.Check {
			break
		}
		switch e.Module {
		case "lb_member":
			if from, to := endRotation(e.Msg); to != "" {
				if from != "" && !c.rotationBefore(e.Host, b.start) {
					// It was in that state before the task, as far as
					// the report can tell since the run began.
					c.inferRotation(e.Host, c.first, from)
				}
				if from == "enabled" && to == "disabled" {
					// Disabling drains first, from the task's start.
					c.inferRotation(e.Host, b.start, "drained")
				}
				c.inferRotation(e.Host, e.Time, to)
			}
		case "installer":
			if v, ok := installerVersions(e.Msg); ok {
				c.inferVersions(e.Host, v)
			}
		}
	}
}

func (c *Collector) wave(e runner.Event) *waveInfo {
	for i := len(c.waves) - 1; i >= 0; i-- {
		if c.waves[i].name == e.Wave {
			return c.waves[i]
		}
	}
	return nil
}

func (c *Collector) see(t time.Time) {
	if t.IsZero() {
		return
	}
	if c.first.IsZero() || t.Before(c.first) {
		c.first = t
	}
	if t.After(c.last) {
		c.last = t
	}
}

func (c *Collector) hostInfo(name string) *hostInfo {
	h := c.host[name]
	if h == nil {
		h = &hostInfo{}
		c.host[name] = h
		c.hosts = append(c.hosts, name)
	}
	return h
}

// SetVersions records the Platform Server version of host before and after
// the run; it overrides what was read from installer messages.
func (c *Collector) SetVersions(host, before, after string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.hostInfo(host)
	h.versions, h.explicitVersion = versions{before, after}, true
}

func (c *Collector) inferVersions(host string, v versions) {
	h := c.hostInfo(host)
	if h.explicitVersion {
		return
	}
	if h.versions.before == "" {
		h.versions.before = v.before
	}
	h.versions.after = v.after
}

// RotationChange records that host's load-balancer member entered state
// (enabled, drained, disabled...) at t. Once called for a host, states read
// from its lb_member messages are dropped: the caller knows better.
func (c *Collector) RotationChange(t time.Time, host, state string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.hostInfo(host)
	if !h.explicitRot {
		h.explicitRot, h.rotation = true, nil
	}
	c.see(t)
	h.rotation = append(h.rotation, rotation{t: t, state: state, seq: len(h.rotation)})
}

// rotationBefore says whether host's state is known before t.
func (c *Collector) rotationBefore(host string, t time.Time) bool {
	for _, r := range c.hostInfo(host).rotation {
		if r.t.Before(t) {
			return true
		}
	}
	return false
}

func (c *Collector) inferRotation(host string, t time.Time, state string) {
	h := c.hostInfo(host)
	if h.explicitRot {
		return
	}
	if n := len(h.rotation); n > 0 && h.rotation[n-1].state == state {
		return
	}
	h.rotation = append(h.rotation, rotation{t: t, state: state, seq: len(h.rotation)})
}

// SetRecap records the run's result; without it the recap table is counted
// from the events.
func (c *Collector) SetRecap(r *runner.Recap) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recap = r
	if r != nil {
		for _, h := range r.Hosts {
			c.hostInfo(h.Host)
		}
	}
}

// SetTraffic records how many requests the lab's traffic generator sent
// during the run and how many of them failed.
func (c *Collector) SetTraffic(sent, failed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.traffic = &traffic{sent, failed}
}

// The message shapes of the lb_member and installer modules. Reading them
// keeps the report useful without the CLI feeding anything but events; a
// message that does not match is simply not used.
var (
	lbChange  = regexp.MustCompile(`^\S+ (\w+) -> (\w+) \(`)
	lbAlready = regexp.MustCompile(`^\S+ is already (\w+) \(`)
	lbForced  = regexp.MustCompile(`^\S+ disabled after drain_timeout`)
	upgraded  = regexp.MustCompile(`^upgraded (\S+) → ([^\s;]+)`)
	installed = regexp.MustCompile(`^Platform Server (\S+) is installed`)
	finished  = regexp.MustCompile(`^finished the configuration of ([^\s;]+)`)
)

// endRotation reads the state an lb_member task found its member in and the
// state it left it in.
func endRotation(msg string) (from, to string) {
	if m := lbChange.FindStringSubmatch(msg); m != nil {
		return m[1], m[2]
	}
	if m := lbAlready.FindStringSubmatch(msg); m != nil {
		return m[1], m[1]
	}
	if lbForced.MatchString(msg) {
		return "drained", "disabled"
	}
	return "", ""
}

// progressRotation reads the state an lb_member progress line implies.
func progressRotation(msg string) string {
	if strings.HasPrefix(msg, "draining ") {
		return "drained"
	}
	return ""
}

func installerVersions(msg string) (versions, bool) {
	if m := upgraded.FindStringSubmatch(msg); m != nil {
		return versions{m[1], m[2]}, true
	}
	if m := installed.FindStringSubmatch(msg); m != nil {
		return versions{m[1], m[1]}, true
	}
	if m := finished.FindStringSubmatch(msg); m != nil {
		return versions{"", m[1]}, true
	}
	return versions{}, false
}
