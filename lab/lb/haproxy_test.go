package lb_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osrun/osrun/lab/lb"
)

// realHAProxy starts the haproxy binary with the configuration the
// simulated balancer imitates, over the farm's backends, and returns its
// unix stats socket and frontend address. Without the binary the test is
// skipped, loudly, except in CI where that is a failure.
func realHAProxy(t *testing.T, f *farm, names ...string) (sock, front string) {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("haproxy is not installed; CI must install the Debian haproxy package")
		}
		t.Skip("SKIPPING THE COMPARISON WITH A REAL HAPROXY: haproxy is not installed (apt-get install haproxy)")
	}
	sock = sockPath(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	front = ln.Addr().String()
	ln.Close()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, `global
    stats socket %s mode 600 level admin
    stats timeout 10s
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
frontend fe
    bind %s
    default_backend web
backend web
    balance roundrobin
    option httpchk GET /ServiceCenter/_ping.aspx
    option redispatch
    retries 1
`, sock, front)
	for _, n := range names {
		fmt.Fprintf(&cfg, "    server %s %s check inter 100ms rise 2 fall 3\n", n, f.backends[n].addr())
	}
	path := filepath.Join(filepath.Dir(sock), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "-f", path, "-db")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start haproxy: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("haproxy output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("haproxy exited: %v\n%s", err, out.String())
		default:
		}
		if _, err := os.Stat(sock); err == nil {
			return sock, front
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy's socket never appeared\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond) // HAProxy's startup has no event to wait on
	}
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
				for _, col := range rh {
					if col == "srv_time_since_last_change" {
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
