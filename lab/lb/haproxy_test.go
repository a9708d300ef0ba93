package lb_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/osrun/osrun/lab/lb"
)

// realHAProxy starts the haproxy binary (StartReal) over the farm's
// backends and returns its unix stats socket and frontend address. Without
// the binary the test is skipped, loudly, except in CI where that is a
// failure.
func realHAProxy(t *testing.T, f *farm, names ...string) (sock, front string) {
	t.Helper()
	cfg := lb.Config{CheckInterval: 100 * time.Millisecond, Rise: 2, Fall: 3}
	for _, n := range names {
		cfg.Members = append(cfg.Members, lb.MemberConfig{Name: n, Addr: f.backends[n].addr()})
	}
	r, err := lb.StartReal(t.Context(), cfg)
	if errors.Is(err, lb.ErrNoHAProxy) {
		if os.Getenv("CI") == "true" {
			t.Fatal("haproxy is not installed; CI must install the Debian haproxy package")
		}
		t.Skip("SKIPPING THE COMPARISON WITH A REAL HAPROXY: haproxy is not installed (apt-get install haproxy)")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("haproxy output:\n%s", r.Output())
		}
		r.Close()
	})
	return r.SocketPath(), r.Addr()
}

// statuses returns "name=status" for every server row of show stat.
func statuses(t *testing.T, network, addr string) string {
	t.Helper()
	_, rows := statRows(t, api(t, network, addr, "show stat web 4 -1"))
	var s []string
	for _, r := range rows {
		s = append(s, r["svname"]+"="+r["status"])
	}
	return strings.Join(s, " ")
}

// sameShape compares two replies to the same command: CSV and servers-state
// replies by header, row identity and which fields are empty (values such
// as counters and timings differ); everything else byte for byte.
func sameShape(t *testing.T, cmd, real, sim string) {
	t.Helper()
	replies := func(s string) []string { return strings.SplitAfter(s, "\n\n") }
	rr, sr := replies(real), replies(sim)
	if len(rr) != len(sr) {
		t.Errorf("%s: %d replies from haproxy, %d from the simulation\nhaproxy: %q\nsim:     %q", cmd, len(rr), len(sr), real, sim)
		return
	}
	for i := range rr {
		r, s := rr[i], sr[i]
		switch {
		case strings.HasPrefix(r, "# pxname"):
			rh, rrows := statRows(t, strings.TrimSuffix(r, "\n"))
			sh, srows := statRows(t, strings.TrimSuffix(s, "\n"))
			if strings.Join(rh, ",") != strings.Join(sh, ",") {
				t.Errorf("%s: show stat headers differ\nhaproxy: %s\nsim:     %s", cmd, strings.Join(rh, ","), strings.Join(sh, ","))
				continue
			}
			if len(rrows) != len(srows) {
				t.Errorf("%s: %d rows from haproxy, %d from the simulation", cmd, len(rrows), len(srows))
				continue
			}
			for j := range rrows {
				for _, col := range rh {
					rv, sv := rrows[j][col], srows[j][col]
					if col == "check_status" {
						// "* " marks a check in progress at that instant.
						rv = strings.TrimPrefix(rv, "* ")
					}
					same := (rv == "") == (sv == "")
					switch col {
					case "pxname", "svname", "type", "status", "check_status", "check_code", "check_rise", "check_fall", "check_health", "check_desc", "iid", "sid", "addr", "mode", "algo", "weight", "act", "bck", "scur", "qcur":
						same = rv == sv
					}
					if !same {
						t.Errorf("%s: row %s/%s column %s: haproxy %q, simulation %q", cmd, rrows[j]["pxname"], rrows[j]["svname"], col, rv, sv)
					}
				}
			}
		case strings.HasPrefix(r, "1\n# be_id"):
			rh, rrows := serversState(t, r)
			sh, srows := serversState(t, s)
			if strings.Join(rh, " ") != strings.Join(sh, " ") || len(rrows) != len(srows) {
				t.Errorf("%s: servers state differs\nhaproxy: %q\nsim:     %q", cmd, r, s)
				continue
			}
			for j := range rrows {
				// A check in progress (CHK_ST_INPROGRESS) shows an unknown
				// result for that instant.
				state, _ := strconv.Atoi(rrows[j]["srv_check_state"])
				inProgress := state&1 != 0
				for _, col := range rh {
					if col == "srv_time_since_last_change" ||
						(inProgress && (col == "srv_check_state" || col == "srv_check_result" || col == "srv_check_status")) {
						continue
					}
					if rrows[j][col] != srows[j][col] {
						t.Errorf("%s: server %s column %s: haproxy %q, simulation %q", cmd, rrows[j]["srv_name"], col, rrows[j][col], srows[j][col])
					}
				}
			}
		default:
			if r != s {
				t.Errorf("%s: reply differs\nhaproxy: %q\nsim:     %q", cmd, r, s)
			}
		}
	}
}

func TestMatchesRealHAProxy(t *testing.T) {
	names := []string{"fe01", "fe02", "fe03"}
	f := newFarm(t, lb.Config{SocketPath: sockPath(t), CheckInterval: 100 * time.Millisecond, Rise: 2, Fall: 3}, names...)
	sock, front := realHAProxy(t, f, names...)
	settled := func(want string) {
		t.Helper()
		eventually(t, "both balancers at "+want, func() bool {
			return statuses(t, "unix", sock) == want && statuses(t, "unix", f.lb.SocketPath()) == want
		})
	}
	settled("fe01=UP fe02=UP fe03=UP")
	both := func(cmd string) {
		t.Helper()
		sameShape(t, cmd, api(t, "unix", sock, cmd), api(t, "unix", f.lb.SocketPath(), cmd))
	}
	for _, cmd := range []string{
		"show stat",
		"show stat web 4 -1",
		"show stat -1 4 -1",
		"show stat fe 1 -1",
		"show servers state",
		"show servers state web",
		"set server web/fe01 state drain",
		"set server web/fe02 state maint",
		"show stat;show servers state web",
		"show stat web 4 -1 no-maint",
		"set server web/fe09 state drain",
		"set server nope/fe01 state drain",
		"set server web/fe01 state bogus",
		"set server web state drain",
		"set server",
		"set server web/fe01",
		"set server #3/#1 state drain",
		"set server web/#9 state drain",
		"shutdown sessions server web/fe01",
		"shutdown sessions server web/fe09",
		"disable server web/fe09",
		"enable server nope/fe01",
		"show servers state nope",
		"show stat nope 4 -1",
		"show backend",
		"show servers",
		"help",
		"set server web/fe01 state ready;set server web/fe09 state ready",
	} {
		both(cmd)
	}
	// Drained and in maintenance, nothing takes traffic: both balancers
	// answer the same 503.
	both("set server web/fe01 state drain;set server web/fe03 state drain")
	real, sim := get(t, "http://"+front+"/"), get(t, f.lb.URL()+"/")
	if real.status != sim.status || real.body != sim.body {
		t.Errorf("with no member in rotation: haproxy %d %q, simulation %d %q", real.status, real.body, sim.status, sim.body)
	}
	both("set server web/fe01 state ready;set server web/fe02 state ready;set server web/fe03 state ready")
	settled("fe01=UP fe02=UP fe03=UP")
	// Both name the member that answered, and both go round-robin.
	for range 3 {
		real, sim := get(t, "http://"+front+"/"), get(t, f.lb.URL()+"/")
		if real.status != 200 || real.body != real.servedBy+"\n" || sim.status != 200 || sim.body != sim.servedBy+"\n" {
			t.Errorf("GET: haproxy %+v, simulation %+v", real, sim)
		}
	}
	// A failing ping: both see it go down the same way.
	f.backends["fe03"].sick.Store(true)
	settled("fe01=UP fe02=UP fe03=DOWN")
	both("show stat web 4 -1")
	both("show servers state web")
	// Leaving maintenance with the ping failing: up at the lowest health,
	// then down at the first check.
	both("disable server web/fe03")
	both("show servers state web")
	both("enable server web/fe03")
	settled("fe01=UP fe02=UP fe03=DOWN")
	f.backends["fe03"].sick.Store(false)
	settled("fe01=UP fe02=UP fe03=UP")
	both("show servers state web")
}

func TestMatchesRealHAProxyInteractive(t *testing.T) {
	names := []string{"fe01", "fe02"}
	f := newFarm(t, lb.Config{SocketPath: sockPath(t)}, names...)
	sock, _ := realHAProxy(t, f, names...)
	session := func(path string) string {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		var all bytes.Buffer
		buf := make([]byte, 64<<10)
		want := 0
		for _, line := range []string{"prompt", "set server web/fe01 state drain", "set server web/fe09 state drain",
			"set server web/fe01 state ready; set server web/fe09 state ready", "show backend", "quit"} {
			fmt.Fprintf(c, "%s\n", line)
			if line == "quit" {
				rest, err := io.ReadAll(c)
				if err != nil {
					t.Fatalf("after quit: %v", err)
				}
				all.Write(rest)
				break
			}
			// One prompt per command on the line.
			want += strings.Count(line, ";") + 1
			for bytes.Count(all.Bytes(), []byte("\n> ")) < want {
				n, err := c.Read(buf)
				all.Write(buf[:n])
				if err != nil {
					t.Fatalf("%s: %v after %q", line, err, all.String())
				}
			}
		}
		return all.String()
	}
	real, sim := session(sock), session(f.lb.SocketPath())
	if !strings.Contains(real, "No such server.") {
		t.Fatalf("the transcript from haproxy is incomplete: %q", real)
	}
	sameShape(t, "interactive session", real, sim)
}
