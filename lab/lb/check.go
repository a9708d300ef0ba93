package lb

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// checkResult is the last health check, in HAProxy's words.
type checkResult struct {
	done     bool
	passed   bool
	status   string // check_status: L7OK, L7STS, L4CON, L4TOUT, L7TOUT
	code     int    // HTTP status, 0 when none
	duration time.Duration
	info     string // last_chk: "Connection refused", ...
	desc     string // check_desc
}

// statusCode is the numeric check status of "show servers state"
// (check-t.h, enum healthcheck_status).
func (c checkResult) statusCode() int {
	switch c.status {
	case "L4TOUT":
		return 7
	case "L4CON":
		return 8
	case "L7TOUT":
		return 12
	case "L7OK":
		return 15
	case "L7STS":
		return 17
	}
	return 0
}

// resultCode is srv_check_result: 0 unknown, 2 failed, 3 passed.
func (c checkResult) resultCode() int {
	switch {
	case !c.done:
		return 0
	case c.passed:
		return 3
	}
	return 2
}

func (l *LB) checkLoop(m *member) {
	t := time.NewTicker(l.cfg.CheckInterval)
	defer t.Stop()
	for {
		l.mu.Lock()
		paused := m.admin == Maint
		l.mu.Unlock()
		if !paused {
			l.applyCheck(m, l.runCheck(m))
		}
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
	}
}

// runCheck performs one "option httpchk GET <path>": 2xx and 3xx pass.
func (l *LB) runCheck(m *member) checkResult {
	ctx, cancel := context.WithTimeout(context.Background(), l.cfg.CheckTimeout)
	defer cancel()
	go func() {
		select {
		case <-l.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	start := time.Now()
	res := checkResult{done: true}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+m.cfg.Addr+m.cfg.CheckPath, nil)
	if err == nil {
		var resp *http.Response
		if resp, err = l.checker.Do(req); err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			res.code = resp.StatusCode
			if resp.StatusCode >= 200 && resp.StatusCode < 400 {
				res.passed, res.status, res.desc = true, "L7OK", "Layer7 check passed"
			} else {
				res.status, res.desc, res.info = "L7STS", "Layer7 wrong status", http.StatusText(resp.StatusCode)
			}
		}
	}
	res.duration = time.Since(start)
	if err != nil {
		var op *net.OpError
		switch {
		case errors.As(err, &op) && op.Op == "dial":
			if op.Timeout() {
				res.status, res.desc, res.info = "L4TOUT", "Layer4 timeout", ""
			} else {
				res.status, res.desc, res.info = "L4CON", "Layer4 connection problem", "Connection refused"
			}
		case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
			res.status, res.desc = "L7TOUT", "Layer7 timeout"
		default:
			res.status, res.desc, res.info = "L7RSP", "Layer7 invalid response", "Connection error"
		}
	}
	if res.info == "" && res.code != 0 && !res.passed {
		res.info = strconv.Itoa(res.code)
	}
	return res
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// applyCheck moves the health counter like HAProxy's check.c
// (set_server_check_status): a pass climbs toward rise and, once there,
// jumps to the top; a failure steps down and, below rise, drops to 0.
func (l *LB) applyCheck(m *member, res checkResult) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if m.admin == Maint || l.closed {
		return // the result of a check that raced with "state maint"
	}
	m.check = res
	top := l.cfg.Rise + l.cfg.Fall - 1
	up := m.up
	if res.passed {
		if m.health < top {
			m.health++
			if m.health >= l.cfg.Rise {
				m.health = top
				up = true
			}
		}
	} else {
		m.chkfail++
		if m.health > 0 {
			m.health--
			if m.health < l.cfg.Rise {
				m.health = 0
				up = false
			}
		}
	}
	l.changeLocked(m, State{Admin: m.admin, Up: up})
}
