package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/runner/playbook"
	"github.com/osrun/osrun/transports"
)

// Run executes pb on inv. The error is for problems found before anything
// ran (an unknown --limit name, a transport without a dialer); what happens
// to hosts is in the Recap.
func Run(ctx context.Context, pb *playbook.Playbook, inv *inventory.Inventory, opts Options) (*Recap, error) {
	set, err := limitSet(inv, opts.Limit)
	if err != nil {
		return nil, err
	}
	if opts.Forks <= 0 {
		opts.Forks = DefaultForks
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	r := &run{pb: pb, inv: inv, opts: opts, limit: set, hosts: map[*inventory.Host]*hostState{}}
	if err := r.prepare(); err != nil {
		return nil, err
	}
	r.live, r.superseded = r.toReread()
	return r.run(ctx), nil
}

// run is one execution. Host state is touched by one goroutine per host
// while a task runs and by the coordinator between tasks; the WaitGroup
// orders the two.
type run struct {
	pb    *playbook.Playbook
	inv   *inventory.Inventory
	opts  Options
	limit map[*inventory.Host]bool
	hosts map[*inventory.Host]*hostState
	order []*hostState // inventory order, for the recap
	// live are the finished steps whose live state a resume re-reads
	// (see toReread); read-only once the run starts.
	live map[stepKey]bool
	// superseded are finished steps whose effect a later finished step
	// of the same kind decides (see toReread): replayed even after a
	// restore.
	superseded map[stepKey]bool

	emitMu sync.Mutex
	ended  bool // RunEnd sent: late progress lines are dropped

	// stops counts the failures that stop the run whatever the wave's
	// failure budget (see stopsRun); a wave compares it around each batch.
	stops atomic.Int64
}

// stopsRun reports an error that must stop the run even within the wave's
// max_fail_percentage: a module's error that says so, such as an approval
// a person refused or did not give in time. With a budget of 100 on a
// gate's wave over the controller, say, the waves after it would
// otherwise go on, unapproved, on the hosts the gate did not cover.
func stopsRun(err error) bool {
	var s interface{ StopsRun() bool }
	return errors.As(err, &s) && s.StopsRun()
}

type hostState struct {
	host    *inventory.Host
	conn    transports.Conn
	down    bool // failed or unreachable: skipped for the rest of the run
	results map[string]cty.Value
	recap   HostRecap
	log     *slog.Logger
}

// prepare selects the hosts and checks that every host that has a task to
// run on it has a dialer for its transport.
func (r *run) prepare() error {
	needsConn := map[*inventory.Host]bool{}
	for _, w := range slices.Concat(r.pb.Waves, r.pb.OnFailure) {
		onHost := slices.ContainsFunc(w.Tasks, func(t *playbook.Task) bool { return t.On == modules.OnHost })
		for _, h := range limited(w.Hosts, r.limit) {
			if _, ok := r.hosts[h]; !ok {
				r.hosts[h] = &hostState{
					host:    h,
					results: map[string]cty.Value{},
					recap:   HostRecap{Host: h.Name},
					log:     r.opts.Log.With("host", h.Name),
				}
			}
			needsConn[h] = needsConn[h] || onHost
		}
	}
	for _, h := range r.inv.Hosts {
		if hs, ok := r.hosts[h]; ok {
			r.order = append(r.order, hs)
		}
	}
	if len(r.order) != len(r.hosts) {
		return errors.New("the playbook was decoded against another inventory")
	}
	for _, hs := range r.order {
		if needsConn[hs.host] && r.opts.Dialers[hs.host.Transport] == nil {
			return fmt.Errorf("host %s: no transport %q to connect with", hs.host.Name, hs.host.Transport)
		}
	}
	return nil
}

func (r *run) emit(e Event) {
	r.emitMu.Lock()
	defer r.emitMu.Unlock()
	if r.ended || r.opts.Sink == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.RunID, e.Check = r.opts.RunID, r.opts.Check
	r.opts.Sink.Emit(e)
	if e.Kind == RunEnd {
		r.ended = true
	}
}

func (r *run) run(ctx context.Context) *Recap {
	start := time.Now()
	recap := &Recap{RunID: r.opts.RunID, Check: r.opts.Check, Outcome: OutcomeSuccess, Hosts: []HostRecap{}}
	r.emit(Event{Kind: RunStart, Waves: len(r.pb.Waves), Hosts: r.hostNames()})

	for i, w := range r.pb.Waves {
		if ctx.Err() != nil {
			recap.Outcome, recap.StoppedAt = OutcomeInterrupted, w.Name
			break
		}
		if stop, why := r.wave(ctx, i, len(r.pb.Waves), w); stop != "" {
			recap.Outcome, recap.StoppedAt, recap.StopReason = stop, w.Name, why
			break
		}
	}
	stoppedEarly := recap.Outcome == OutcomeBudgetExceeded || recap.Outcome == OutcomeInterrupted
	if stoppedEarly && len(r.pb.OnFailure) > 0 && (!r.opts.Check || r.opts.CheckOnFailure) {
		recap.OnFailure = r.restore(ctx)
	}
	r.closeAll()

	if recap.Outcome == OutcomeSuccess && slices.ContainsFunc(r.order, func(hs *hostState) bool { return hs.down }) {
		recap.Outcome = OutcomeFailed
	}
	recap.Duration = time.Since(start)
	for _, hs := range r.order {
		recap.Hosts = append(recap.Hosts, hs.recap)
	}
	status := StatusOK
	switch recap.Outcome {
	case OutcomeInterrupted:
		status = StatusInterrupted
	case OutcomeFailed, OutcomeBudgetExceeded:
		status = StatusFailed
	}
	// A run stopped early says why in the end event's error.
	r.emit(Event{Kind: RunEnd, Status: status, Msg: string(recap.Outcome), Error: recap.StopReason, Duration: recap.Duration})
	return recap
}

func (r *run) hostNames() []string {
	out := make([]string, len(r.order))
	for i, hs := range r.order {
		out[i] = hs.host.Name
	}
	return out
}

// restore runs the on_failure waves after the run stopped early. They get
// a context of their own: the interrupt that stopped the run must not stop
// the restore too; only their time bound or a hard stop does. Every host
// starts them afresh, failed ones included (a failed host may be the one
// whose rotation needs restoring; when conditions on earlier results leave
// it alone otherwise), and their outcome is kept apart from the run's.
func (r *run) restore(ctx context.Context) *OnFailureRecap {
	timeout := r.opts.OnFailureTimeout
	if timeout <= 0 {
		timeout = DefaultOnFailureTimeout
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if r.opts.HardStop != nil {
		stop := context.AfterFunc(r.opts.HardStop, cancel)
		defer stop()
	}

	saved := make([]HostRecap, len(r.order))
	for i, hs := range r.order {
		saved[i] = hs.recap
		hs.recap, hs.down = HostRecap{Host: hs.host.Name}, false
	}
	rec := &OnFailureRecap{Outcome: OutcomeSuccess, Hosts: []HostRecap{}}
	for i, w := range r.pb.OnFailure {
		if rctx.Err() != nil {
			rec.Outcome, rec.StoppedAt = OutcomeInterrupted, w.Name
			break
		}
		// A failing restore wave stops the ones after it, as a wave would,
		// and nothing more: on_failure waves never trigger themselves.
		if stop, _ := r.wave(rctx, i, len(r.pb.OnFailure), w); stop != "" {
			rec.Outcome, rec.StoppedAt = stop, w.Name
			break
		}
	}
	ran := map[*inventory.Host]bool{}
	for _, w := range r.pb.OnFailure {
		for _, h := range limited(w.Hosts, r.limit) {
			ran[h] = true
		}
	}
	for i, hs := range r.order {
		if ran[hs.host] {
			rec.Hosts = append(rec.Hosts, hs.recap)
			if hs.down && rec.Outcome == OutcomeSuccess {
				rec.Outcome = OutcomeFailed
			}
		}
		hs.recap = saved[i]
	}
	return rec
}

// wave runs one wave, the i-th of n, and returns a non-empty Outcome when
// the run must stop, and for OutcomeBudgetExceeded why (Recap.StopReason).
func (r *run) wave(ctx context.Context, i, n int, w *playbook.Wave) (stop Outcome, why string) {
	start := time.Now()
	hosts := limited(w.Hosts, r.limit)
	batches := w.Batches(hosts)
	base := Event{Wave: w.Name, WaveNum: i + 1, Waves: n, Batches: len(batches), OnFailure: w.OnFailure}

	ev := base
	ev.Kind, ev.Hosts, ev.Msg = WaveStart, names(hosts), w.Description
	r.emit(ev)

	refused := false
	failed := 0 // hosts that failed during this wave
	for b, batch := range batches {
		if ctx.Err() != nil {
			stop = OutcomeInterrupted
			break
		}
		stops := r.stops.Load()
		failed += r.batch(ctx, base, b, batch, w.Tasks)
		if ctx.Err() != nil {
			stop = OutcomeInterrupted
			break
		}
		// The budget is checked between batches, as in Ansible: hosts of a
		// batch already under way are allowed to finish.
		if float64(failed)*100 > w.MaxFailPercentage*float64(len(hosts)) {
			stop = OutcomeBudgetExceeded
			break
		}
		if r.stops.Load() != stops {
			stop, refused = OutcomeBudgetExceeded, true
			break
		}
	}

	ev = base
	ev.Kind, ev.Duration, ev.Status = WaveEnd, time.Since(start), StatusOK
	switch {
	case stop == OutcomeInterrupted:
		ev.Status = StatusInterrupted
	case failed > 0:
		ev.Status = StatusFailed
		ev.Msg = fmt.Sprintf("%d of %d hosts failed", failed, len(hosts))
	}
	switch {
	case refused:
		why = "a step was not approved"
		ev.Msg += ", a step was not approved: stopping whatever max_fail_percentage"
	case stop == OutcomeBudgetExceeded:
		why = fmt.Sprintf("the failure budget was exceeded (max_fail_percentage %g)", w.MaxFailPercentage)
		ev.Msg += fmt.Sprintf(", above max_fail_percentage %g: stopping", w.MaxFailPercentage)
	}
	r.emit(ev)
	return stop, why
}

// batch runs the tasks of a wave on one batch in lock-step and returns how
// many of its hosts failed.
func (r *run) batch(ctx context.Context, base Event, b int, batch []*inventory.Host, tasks []*playbook.Task) int {
	var live []*hostState
	for _, h := range batch {
		if hs := r.hosts[h]; !hs.down {
			live = append(live, hs)
		}
	}
	if len(live) == 0 {
		return 0
	}
	start := time.Now()
	base.Batch = b + 1
	ev := base
	ev.Kind, ev.Hosts = BatchStart, stateNames(live)
	r.emit(ev)

	failed := 0
	for _, t := range tasks {
		if ctx.Err() != nil || len(live) == 0 {
			break
		}
		failed += r.task(ctx, base, t, live)
		live = slices.DeleteFunc(live, func(hs *hostState) bool { return hs.down })
	}

	ev = base
	ev.Kind, ev.Duration, ev.Status = BatchEnd, time.Since(start), StatusOK
	if failed > 0 {
		ev.Status = StatusFailed
	}
	if ctx.Err() != nil {
		ev.Status = StatusInterrupted
	}
	r.emit(ev)
	return failed
}

// task runs one task on every live host of a batch, at most Forks at once,
// and returns when all of them are done.
func (r *run) task(ctx context.Context, base Event, t *playbook.Task, live []*hostState) int {
	start := time.Now()
	base.Task, base.Module = t.Key(), t.Module
	ev := base
	ev.Kind, ev.Hosts = TaskStart, stateNames(live)
	r.emit(ev)

	sem := make(chan struct{}, r.opts.Forks)
	var wg sync.WaitGroup
	statuses := make([]Status, len(live)) // "" for hosts that never started
launch:
	for i, hs := range live {
		// select picks at random among ready cases: check first so that no
		// host starts once the run is cancelled.
		if ctx.Err() != nil {
			break
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break launch
		}
		wg.Go(func() {
			defer func() { <-sem }()
			statuses[i] = r.hostTask(ctx, base, t, hs)
		})
	}
	wg.Wait()

	failed := 0
	for _, hs := range live {
		if hs.down {
			failed++
		}
	}
	ev = base
	ev.Kind, ev.Duration, ev.Status = TaskEnd, time.Since(start), taskStatus(statuses)
	r.emit(ev)
	return failed
}

// taskStatus sums up a task over a batch: the worst outcome any host had,
// "changed" when something changed, "skipped" when no host ran it.
func taskStatus(statuses []Status) Status {
	rank := map[Status]int{"": 0, StatusSkipped: 1, StatusOK: 2, StatusChanged: 3, StatusFailed: 4, StatusUnreachable: 5, StatusInterrupted: 6}
	sum := StatusSkipped
	for _, s := range statuses {
		if rank[s] > rank[sum] {
			sum = s
		}
	}
	return sum
}

func stateNames(hs []*hostState) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.host.Name
	}
	return out
}

// hostTask runs t on one host and records the outcome.
func (r *run) hostTask(ctx context.Context, base Event, t *playbook.Task, hs *hostState) Status {
	start := time.Now()
	base.Host = hs.host.Name
	var prior PriorStep
	var known bool
	if r.opts.Resume != nil && !base.OnFailure {
		// on_failure waves restore the farm as it is now: what an earlier
		// run's restore did says nothing about what this one must do.
		prior, known = r.opts.Resume.Prior(base.Wave, t.Key(), hs.host.Name)
	}
	log := hs.log.With("task", t.Key())
	k := stepKey{base.Wave, t.Key(), hs.host.Name}
	reread := known && prior.Done() && r.live[k]
	// A finished step a restore may have undone is re-checked like one in
	// doubt, unless its live state is re-read anyway or a later finished
	// step decides it.
	undone := known && prior.Done() && prior.Undone != "" && prior.Status != StatusSkipped && !reread && !r.superseded[k]
	if known && prior.Done() && !reread && !undone {
		return r.resumed(base, t, hs, prior, log)
	}

	ev := base
	ev.Kind = HostTaskStart
	r.emit(ev)

	var how recorded
	switch {
	case reread:
		how.done = &prior
	case undone:
		how.doubt = prior.Undone
	case known && prior.InDoubt():
		how.doubt = prior.Msg
		if how.doubt == "" {
			how.doubt = "it started in run " + prior.RunID + " and never reported an end"
		}
	}
	o := r.safeExecute(ctx, base, t, hs, log, how)
	if o.replay {
		ev = base
		ev.Duration = time.Since(start)
		return r.replay(ev, t, hs, prior, log, o.note)
	}

	ignored := o.status == StatusFailed && t.IgnoreErrors
	if (o.status == StatusFailed && !ignored) || o.status == StatusUnreachable {
		if stopsRun(o.err) {
			r.stops.Add(1)
		}
		hs.down = true
		hs.recap.FailedTask = t.Key()
		if o.err != nil {
			hs.recap.Error = o.err.Error()
		}
	}
	resultStatus := string(o.status)
	switch {
	case o.notStarted:
		// A task that has not run reads as skipped (a restore condition
		// asks "did the installer run here?"); the event and journal
		// still say interrupted, so a resume runs it.
		resultStatus = playbook.ResultSkipped
	case o.status == StatusUnreachable || o.status == StatusInterrupted:
		resultStatus = playbook.ResultFailed
	}
	hs.results[t.Key()] = playbook.ResultValue(resultStatus, o.res, o.err)
	hs.recap.add(o.status, ignored)

	ev = base
	ev.Kind, ev.Status, ev.Duration, ev.Attempt = HostTaskEnd, o.status, time.Since(start), o.attempt
	ev.Msg, ev.Ignored = o.res.Msg, ignored
	if o.note != "" {
		ev.Msg = o.note
		if o.res.Msg != "" {
			ev.Msg += ": " + o.res.Msg
		}
	}
	if r.opts.Diff {
		ev.Diff = o.res.Diff
	}
	if out, err := encodeOutput(o.res.Output); err != nil {
		// A resume would fail the later tasks that read this output, with a
		// clear error; the step itself is fine.
		log.Warn("the output cannot be journalled", "err", err)
	} else {
		ev.Output = out
	}
	if o.err != nil {
		ev.Error = o.err.Error()
		log.Debug("task failed", "status", o.status, "err", o.err)
	}
	r.emit(ev)
	return o.status
}

type outcome struct {
	status  Status
	res     modules.Result
	err     error
	attempt int // 0 unless the task can retry
	// replay: the step is done as recorded; report the record (note says
	// what was confirmed, if anything) instead of status and res.
	replay bool
	// notStarted: interrupted before the module was asked to change
	// anything, so later expressions read it as not run (skipped).
	notStarted bool
	// note goes before the module's message in the host's end event.
	note string
}

// recorded is what an earlier run's record says about a step: at most
// one of the two is set.
type recorded struct {
	// doubt says why the step is in doubt (it started in an earlier run
	// and never reported an end, say): it is re-checked before anything
	// is applied.
	doubt string
	// done is a finished step whose live state is re-read (see
	// toReread): replayed when it still holds, applied again otherwise.
	done *PriorStep
}

// safeExecute is execute with a module's panic turned into the failure of
// this task on this host: the other hosts' goroutines, and their remote
// commands, must not be torn down by one broken module.
func (r *run) safeExecute(ctx context.Context, base Event, t *playbook.Task, hs *hostState, log *slog.Logger, how recorded) (o outcome) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("module panicked", "panic", p, "stack", string(debug.Stack()))
			o = outcome{status: StatusFailed, err: fmt.Errorf("module %s panicked: %v", t.Module, p)}
		}
	}()
	return r.execute(ctx, base, t, hs, log, how)
}

// execute runs t on one host. A step in doubt is re-checked before
// anything is applied; a finished step whose live state is re-read is
// replayed when Check finds it as recorded and applied again otherwise.
func (r *run) execute(ctx context.Context, base Event, t *playbook.Task, hs *hostState, log *slog.Logger, how recorded) outcome {
	fail := func(err error) outcome { return outcome{status: StatusFailed, err: err} }
	ectx := r.pb.EvalContext(r.inv, hs.host, hs.results)
	run, err := t.When(ectx)
	if err != nil {
		return fail(err)
	}
	if !run && how.done != nil {
		// The playbook no longer asks for the step (its condition reads
		// something other than the record's outputs, such as env()), so
		// there is no desired state to compare the live one with: the
		// record stands, as it did before re-reads.
		log.Info("resume: the condition of a finished step is now false; replayed without re-reading the live state")
		return outcome{replay: true}
	}
	if !run {
		return outcome{status: StatusSkipped}
	}
	args, err := t.Args(ectx)
	if err != nil {
		return fail(err)
	}
	action, err := t.Def.New(args)
	if err != nil {
		return fail(fmt.Errorf("module %s: %w", t.Module, err))
	}
	env := &modules.Env{
		Host:      hs.host,
		Inventory: r.inv,
		Log:       log,
		Progress: func(msg string) {
			ev := base
			ev.Kind, ev.Msg = Progress, msg
			r.emit(ev)
		},
	}
	check := r.opts.Check
	if t.CheckMode != nil {
		check = *t.CheckMode
	}
	call := action.Apply
	if check {
		call = action.Check
	}
	var o outcome
	switch {
	case how.done != nil:
		var apply bool
		if o, apply = r.reread(ctx, base, t, action, env, hs, log, *how.done, check); !apply {
			return o
		}
	case how.doubt != "" && !check:
		if o, done := r.verify(ctx, base, t, action, env, hs, ectx, how.doubt); done {
			return o
		}
	}
	retries := t.Retries
	if check {
		// A prediction does not change by waiting for it.
		retries = 0
	}
	// soft is the run's context: once it is done no attempt starts. An
	// upgrade already under way is not cut short by it, since a half-run
	// installer is worse than a late stop: only a hard stop cancels it.
	soft := ctx
	if soft.Err() != nil {
		// Interrupted before it began: the step did nothing.
		return outcome{status: StatusInterrupted, err: soft.Err(), notStarted: true}
	}
	if !check && upgrades(t, args) {
		var unshield func()
		ctx, unshield = r.shield(soft, base)
		defer unshield()
	}

	for attempt := 1; ; attempt++ {
		if retries > 0 || t.HasUntil() {
			o.attempt = attempt
		}
		if soft.Err() != nil {
			o.status = StatusInterrupted
			if o.err == nil {
				o.err = soft.Err()
			}
			o.notStarted = attempt == 1
			return o
		}
		if t.On == modules.OnHost {
			// Dialled on first use, and again after a lost connection
			// (a host rebooting, a dropped VPN) when the task retries.
			conn, err := r.conn(ctx, hs)
			if err != nil {
				o.err = err
				if ctx.Err() != nil {
					o.status = StatusInterrupted
				} else {
					o.status = StatusUnreachable
				}
				return o
			}
			env.Conn = conn
		}
		o.res, o.err = r.attempt(ctx, t, call, env)
		if errors.Is(o.err, transports.ErrConnectionLost) && t.On == modules.OnHost {
			r.drop(hs)
		}
		switch {
		case o.err != nil && ctx.Err() != nil:
			o.status = StatusInterrupted
			return o
		case o.err == nil:
			o.status = StatusOK
			if o.res.Changed {
				o.status = StatusChanged
			}
			if check {
				return o
			}
			done, err := t.Until(ectx, playbook.ResultValue(string(o.status), o.res, nil))
			if err != nil {
				o.status, o.err = StatusFailed, err
				return o
			}
			if done {
				return o
			}
		}
		if attempt > retries {
			break
		}
		if soft.Err() != nil {
			// An upgrade that outlived the interrupt is not tried again.
			o.status = StatusInterrupted
			if o.err == nil {
				o.err = soft.Err()
			}
			return o
		}
		why := "until is false"
		if o.err != nil {
			why = o.err.Error()
		}
		if !r.waitToRetry(soft, base, t, "retrying", attempt, retries, why) {
			o.status = StatusInterrupted
			if o.err == nil {
				o.err = soft.Err()
			}
			return o
		}
	}
	o.status = StatusFailed
	if o.err == nil {
		o.err = fmt.Errorf("until was still false after %d attempts", retries+1)
	} else if retries > 0 {
		o.err = fmt.Errorf("after %d attempts: %w", retries+1, o.err)
	}
	return o
}

// upgrades reports a task that installs the platform, by its module's
// declared effects.
func upgrades(t *playbook.Task, args modules.Args) bool {
	return t.Def.Effects != nil && t.Def.Effects(args).Upgrades
}

// shield returns a context that outlives soft, the run's, and ends only
// with Options.HardStop or the returned stop. When soft ends first, the
// host's line says why the task goes on.
func (r *run) shield(soft context.Context, base Event) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(soft))
	stops := []func() bool{context.AfterFunc(soft, func() {
		ev := base
		ev.Kind, ev.Msg = Progress, "interrupted: letting the upgrade finish; a second interrupt stops it"
		r.emit(ev)
	})}
	if r.opts.HardStop != nil {
		stops = append(stops, context.AfterFunc(r.opts.HardStop, cancel))
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// verify asks Check whether an in-doubt step is already done: done when
// it reports no change (and until, if any, holds). The installer's Check
// reads the installed version, so an installer that completed before a
// crash is never run again. Anything else, an error included, leaves the
// step to Apply, which modules must make idempotent.
func (r *run) verify(ctx context.Context, base Event, t *playbook.Task, action modules.Action, env *modules.Env, hs *hostState, ectx *hcl.EvalContext, doubt string) (outcome, bool) {
	notDone := func(why string) (outcome, bool) {
		ev := base
		ev.Kind, ev.Msg = Progress, "in doubt ("+doubt+"): "+why+"; applying"
		r.emit(ev)
		return outcome{}, false
	}
	if t.On == modules.OnHost {
		conn, err := r.conn(ctx, hs)
		if err != nil {
			return notDone("cannot re-check: " + err.Error())
		}
		env.Conn = conn
	}
	res, err := r.attempt(ctx, t, action.Check, env)
	switch {
	case errors.Is(err, transports.ErrConnectionLost) && t.On == modules.OnHost:
		r.drop(hs)
		return notDone("the re-check lost the connection")
	case err != nil:
		return notDone("the re-check failed: " + err.Error())
	case res.Changed:
		return notDone("the re-check says it is not done")
	}
	if ok, err := t.Until(ectx, playbook.ResultValue(string(StatusOK), res, nil)); err != nil || !ok {
		return notDone("until does not hold yet")
	}
	if res.Msg == "" {
		res.Msg = "verified done"
	} else {
		res.Msg = "verified done: " + res.Msg
	}
	return outcome{status: StatusOK, res: res}, true
}

// reread asks Check whether a step an earlier run finished still holds
// in the live farm (a front-end someone put back in rotation since, a
// version other than the recorded one). The returned outcome replays the
// record when it does; apply is true when it does not, and the step must
// be applied again, with o.note saying why (check mode reports Check's
// prediction instead). A Check that fails is tried again as the task's
// retries and delay allow (a host still rebooting after its upgrade); one
// that still fails fails the step: what cannot be read cannot be trusted.
func (r *run) reread(ctx context.Context, base Event, t *playbook.Task, action modules.Action, env *modules.Env, hs *hostState, log *slog.Logger, p PriorStep, check bool) (o outcome, apply bool) {
	retries := t.Retries
	if check {
		retries = 0
	}
	var res modules.Result
	var err error
	for attempt := 1; ; attempt++ {
		if t.On == modules.OnHost {
			conn, err := r.conn(ctx, hs)
			if err != nil {
				o.status, o.err = StatusUnreachable, err
				if ctx.Err() != nil {
					o.status = StatusInterrupted
				}
				return o, false
			}
			env.Conn = conn
		}
		res, err = r.attempt(ctx, t, action.Check, env)
		if errors.Is(err, transports.ErrConnectionLost) && t.On == modules.OnHost {
			r.drop(hs)
		}
		if err == nil || ctx.Err() != nil || attempt > retries {
			break
		}
		if !r.waitToRetry(ctx, base, t, "reading the live state again", attempt, retries, err.Error()) {
			return outcome{status: StatusInterrupted, err: ctx.Err()}, false
		}
	}
	switch {
	case err != nil && ctx.Err() != nil:
		return outcome{status: StatusInterrupted, err: err}, false
	case err != nil && retries > 0:
		return outcome{status: StatusFailed, err: fmt.Errorf("done in run %s, but its live state cannot be read after %d attempts: %w", p.RunID, retries+1, err)}, false
	case err != nil:
		return outcome{status: StatusFailed, err: fmt.Errorf("done in run %s, but its live state cannot be read: %w", p.RunID, err)}, false
	case !res.Changed:
		return outcome{replay: true, note: confirmed}, false
	}
	o.note = "done in run " + p.RunID + ", but the live state differs"
	if res.Msg != "" {
		o.note += ": " + res.Msg
	}
	log.Warn("resume: the live state differs from the record", "run", p.RunID, "check", res.Msg)
	if check {
		return outcome{status: StatusChanged, res: res, note: o.note}, false
	}
	ev := base
	ev.Kind, ev.Msg = Progress, o.note+"; applying"
	r.emit(ev)
	return o, true
}

// resumed replays a step an earlier run finished: nothing runs, the
// recorded result (outputs included) is what later tasks see.
func (r *run) resumed(base Event, t *playbook.Task, hs *hostState, p PriorStep, log *slog.Logger) Status {
	ev := base
	ev.Kind, ev.ResumedFrom = HostTaskStart, p.RunID
	r.emit(ev)
	return r.replay(base, t, hs, p, log, "")
}

// replay ends a step with the earlier run's record; note (confirmed, say)
// follows the "done in run X" of the message.
func (r *run) replay(base Event, t *playbook.Task, hs *hostState, p PriorStep, log *slog.Logger, note string) Status {
	ev := base
	ev.Kind, ev.ResumedFrom, ev.Status, ev.Output = HostTaskEnd, p.RunID, p.Status, p.Output
	res, err := p.result()
	ev.Msg = "done in run " + p.RunID + note
	if res.Msg != "" {
		ev.Msg += ": " + res.Msg
	}
	if err != nil {
		// Later tasks could not see what this step reported: stop here
		// rather than let them act on a guess.
		ev.Status, ev.Error = StatusFailed, fmt.Sprintf("done in run %s, but %s", p.RunID, err)
		hs.down = true
		hs.recap.FailedTask, hs.recap.Error = t.Key(), ev.Error
		hs.recap.add(StatusFailed, false)
		hs.results[t.Key()] = playbook.ResultValue(playbook.ResultFailed, modules.Result{}, errors.New(ev.Error))
		log.Debug("resumed step unreadable", "err", err)
		r.emit(ev)
		return StatusFailed
	}
	hs.results[t.Key()] = playbook.ResultValue(string(p.Status), res, nil)
	hs.recap.add(p.Status, false)
	hs.recap.Resumed++
	r.emit(ev)
	return p.Status
}

// attempt makes one call, bounded by the task's timeout.
func (r *run) attempt(ctx context.Context, t *playbook.Task, call func(context.Context, *modules.Env) (modules.Result, error), env *modules.Env) (modules.Result, error) {
	actx := ctx
	if t.Timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, t.Timeout)
		defer cancel()
	}
	res, err := call(actx, env)
	if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s: %w", t.Timeout, err)
	}
	return res, err
}

// conn returns the host's connection, dialling it on first use.
func (r *run) conn(ctx context.Context, hs *hostState) (transports.Conn, error) {
	if hs.conn != nil {
		return hs.conn, nil
	}
	d := r.opts.Dialers[hs.host.Transport]
	if d == nil { // prepare checked this; keep the runner safe anyway
		return nil, fmt.Errorf("no transport %q to connect with", hs.host.Transport)
	}
	conn, err := d.Dial(ctx, hs.host)
	if err != nil {
		return nil, fmt.Errorf("connect over %s: %w", hs.host.Transport, err)
	}
	hs.conn = conn
	return conn, nil
}

// drop closes a host's connection after it was lost, so the next task or
// attempt dials afresh.
func (r *run) drop(hs *hostState) {
	if hs.conn == nil {
		return
	}
	if err := hs.conn.Close(); err != nil {
		hs.log.Debug("closing a lost connection", "err", err)
	}
	hs.conn = nil
}

func (r *run) closeAll() {
	for _, hs := range r.order {
		if hs.conn == nil {
			continue
		}
		if err := hs.conn.Close(); err != nil {
			hs.log.Warn("closing the connection failed", "err", err)
		}
		hs.conn = nil
	}
}

// waitToRetry says on the host's line what is done again after t's delay
// and why, then waits for the delay; false means ctx ended first.
func (r *run) waitToRetry(ctx context.Context, base Event, t *playbook.Task, again string, attempt, retries int, why string) bool {
	ev := base
	ev.Kind, ev.Attempt = Progress, attempt+1
	ev.Msg = fmt.Sprintf("%s in %s (attempt %d of %d): %s", again, t.Delay, attempt+1, retries+1, why)
	r.emit(ev)
	return sleep(ctx, t.Delay)
}

// sleep waits d or until ctx is done; false means ctx is done.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
