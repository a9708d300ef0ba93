package lb_test

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osrun/osrun/lab/lb"
)

// sockPath returns a short unix socket path: t.TempDir can exceed the
// ~108 bytes a socket path may have.
func sockPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "osrun-lb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "admin.sock")
}

func TestRuntimeAPIReplies(t *testing.T) {
	f := newFarm(t, lb.Config{SocketPath: sockPath(t), CheckInterval: 1 << 40}, "fe01", "fe02")
	tests := []struct {
		line string
		want string
	}{
		{"set server web/fe01 state drain", "\n"},
		{"set server web/fe01 state maint", "\n"},
		{"set server web/fe01 state ready", "\n"},
		{"set server #3/#2 state drain", "\n"},
		{"set server web/#2 state ready", "\n"},
		{"disable server web/fe02", "\n"},
		{"enable server web/fe02", "\n"},
		{"shutdown sessions server web/fe01", "\n"},
		{"set server web/fe09 state drain", "No such server.\n\n"},
		{"set server nope/fe01 state drain", "No such backend.\n\n"},
		{"set server web/fe01 state bogus", "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n"},
		{"set server web/fe01 state", "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n"},
		{"set server web state drain", "Require 'backend/server'.\n\n"},
		{"set server", "Require 'backend/server'.\n\n"},
		{"set server web/fe01", "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n\n"},
		{"disable server web", "Require 'backend/server'.\n\n"},
		{"enable server fe/fe01", "No such backend.\n\n"},
		{"shutdown sessions server web/fe09", "No such server.\n\n"},
		{"show servers state nope", "Can't find backend.\n\n"},
		{"show stat nope 4 -1", "No such proxy.\n\n"},
		{"show backend", "# name\nweb\n\n"},
		{"set server web/fe01 state drain;set server web/fe09 state drain", "\nNo such server.\n\n"},
		{"set server web/fe01 state ready ; show backend", "\n# name\nweb\n\n"},
		{"quit", ""},
	}
	for _, network := range []string{"tcp", "unix"} {
		addr := map[string]string{"tcp": f.lb.APIAddr(), "unix": f.lb.SocketPath()}[network]
		for _, tt := range tests {
			t.Run(network+"/"+tt.line, func(t *testing.T) {
				if got := api(t, network, addr, tt.line); got != tt.want {
					t.Errorf("reply %q, want %q", got, tt.want)
				}
			})
		}
	}
	t.Run("unknown command", func(t *testing.T) {
		got := api(t, "tcp", f.lb.APIAddr(), "show servers")
		for _, want := range []string{"Unknown command, but maybe", "show servers state [<backend>]", "quit                                    : disconnect\n\n"} {
			if !strings.Contains(got, want) {
				t.Errorf("reply %q lacks %q", got, want)
			}
		}
	})
	t.Run("help", func(t *testing.T) {
		got := api(t, "tcp", f.lb.APIAddr(), "help")
		if !strings.HasPrefix(got, "The following commands are valid at this level:\n  abort ssl ca-file") || !strings.HasSuffix(got, ": disconnect\n\n") {
			t.Errorf("help = %q", got)
		}
	})
}

func TestRuntimeAPIStateParses(t *testing.T) {
	f := newFarm(t, lb.Config{CheckInterval: 1 << 40}, "fe01", "fe02", "fe03")
	eventually(t, "first checks", func() bool {
		for _, st := range f.lb.Members() {
			if st.Detail != "UP" {
				return false
			}
		}
		return true
	})
	api(t, "tcp", f.lb.APIAddr(), "set server web/fe02 state drain;set server web/fe03 state maint")
	header, rows := statRows(t, api(t, "tcp", f.lb.APIAddr(), "show stat"))
	if header[0] != "pxname" || header[4] != "scur" || header[len(header)-1] != "" {
		t.Errorf("header starts %q, index 4 %q, ends %q", header[:2], header[4], header[len(header)-1])
	}
	var kinds []string
	for _, r := range rows {
		kinds = append(kinds, r["pxname"]+"/"+r["svname"]+":"+r["type"]+":"+r["status"])
	}
	want := "fe/FRONTEND:0:OPEN web/fe01:2:UP web/fe02:2:DRAIN web/fe03:2:MAINT web/BACKEND:1:UP"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("show stat rows:\n got %s\nwant %s", got, want)
	}
	_, rows = statRows(t, api(t, "tcp", f.lb.APIAddr(), "show stat -1 4 -1"))
	if len(rows) != 3 {
		t.Errorf("show stat -1 4 -1 gave %d rows, want the 3 servers", len(rows))
	}
	_, rows = statRows(t, api(t, "tcp", f.lb.APIAddr(), "show stat web 4 2"))
	if len(rows) != 1 || rows[0]["svname"] != "fe02" {
		t.Errorf("show stat web 4 2 = %v", rows)
	}
	_, srv := serversState(t, api(t, "tcp", f.lb.APIAddr(), "show servers state web"))
	got := ""
	for _, r := range srv {
		got += r["srv_name"] + ":" + r["srv_op_state"] + ":" + r["srv_admin_state"] + " "
	}
	if want := "fe01:2:0 fe02:2:8 fe03:0:1 "; got != want {
		t.Errorf("show servers state: %q, want %q", got, want)
	}
}

func TestRuntimeAPIInteractive(t *testing.T) {
	f := newFarm(t, lb.Config{CheckInterval: 1 << 40}, "fe01", "fe02")
	c, err := net.Dial("tcp", f.lb.APIAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	// readPrompt reads up to and including the "\n> " prompt.
	readPrompt := func() string {
		var b strings.Builder
		for !strings.HasSuffix(b.String(), "\n> ") {
			ch, err := r.ReadByte()
			if err != nil {
				t.Fatalf("after %q: %v", b.String(), err)
			}
			b.WriteByte(ch)
		}
		return b.String()
	}
	steps := []struct{ send, want string }{
		{"prompt", "\n> "},
		{"set server web/fe01 state drain", "\n> "},
		{"set server web/fe09 state drain", "No such server.\n\n> "},
		{"set server web/fe01 state ready; set server web/fe09 state ready", "\n> No such server.\n\n> "},
	}
	for _, s := range steps {
		io.WriteString(c, s.send+"\n")
		got := readPrompt()
		if s.send == "set server web/fe01 state ready; set server web/fe09 state ready" {
			got += readPrompt()
		}
		if got != s.want {
			t.Errorf("%s: %q, want %q", s.send, got, s.want)
		}
	}
	io.WriteString(c, "quit\n")
	if rest, err := io.ReadAll(r); err != nil || len(rest) != 0 {
		t.Errorf("after quit: %q, %v; want the connection closed", rest, err)
	}
}
