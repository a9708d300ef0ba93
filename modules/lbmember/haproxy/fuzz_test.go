package haproxy

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// seedReplies adds the captured replies of testdata whose names start with
// prefix, plus a few hand-made hostile ones.
func seedReplies(f *testing.F, prefix string, extra ...string) {
	files, err := filepath.Glob(filepath.Join("testdata", prefix+"*.txt"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no %s* replies in testdata: %v", prefix, err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, s := range extra {
		f.Add(s)
	}
}

// FuzzParseStat checks that no "show stat" reply, however malformed,
// panics the parser, that it is deterministic, and that every server it
// returns is named in the reply with the counters HAProxy reported.
func FuzzParseStat(f *testing.F) {
	seedReplies(f, "stat_",
		"",
		"Unknown command\n",
		"# pxname,svname,scur,qcur,status,type\nfarm,fe01,,,UP,2\n",
		"# pxname,svname,scur,qcur,status,type\nfarm,fe01,\"1\n",
		"# pxname,svname,scur,qcur,status,type\nfarm\n",
		"# type,type,svname,pxname\n2,3,x,farm\n",
		"# pxname,svname,scur,qcur,status,type\nfarm,fe01,-1,99999999999999999999,UP,2\n",
	)
	f.Fuzz(func(t *testing.T, reply string) {
		rows, err := parseStat(reply, "farm")
		again, err2 := parseStat(reply, "farm")
		if (err == nil) != (err2 == nil) || !reflect.DeepEqual(rows, again) {
			t.Fatalf("not deterministic: %v %v / %v %v", rows, err, again, err2)
		}
		if err != nil {
			if rows != nil {
				t.Fatalf("rows %v with error %v", rows, err)
			}
			return
		}
		for name, row := range rows {
			if name != "" && !strings.Contains(reply, name) {
				t.Fatalf("server %q is not in the reply", name)
			}
			// The status a driver reports for it must not panic either.
			_ = serverState{name: name, opState: opRunning, uweight: -1}.status(row)
		}
	})
}

// FuzzParseServersState does the same for "show servers state".
func FuzzParseServersState(f *testing.F) {
	seedReplies(f, "state_",
		"",
		"1\n",
		"1\n# srv_name srv_op_state srv_admin_state\nfe01 2\n",
		"1\n# srv_name srv_op_state srv_admin_state srv_uweight\nfe01 2 0x1 x\n",
		"1\n# srv_name srv_name srv_op_state srv_admin_state\nfe01 fe02 2 8\n",
	)
	f.Fuzz(func(t *testing.T, reply string) {
		states, err := parseServersState(reply)
		if err != nil {
			if states != nil {
				t.Fatalf("states %v with error %v", states, err)
			}
			return
		}
		for _, s := range states {
			if !strings.Contains(reply, s.name) || strings.ContainsAny(s.name, " \t\n") {
				t.Fatalf("server %q is not a field of the reply", s.name)
			}
			_ = s.status(statRow{})
		}
	})
}
