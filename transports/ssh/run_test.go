package ssh

import (
	"bytes"
	"errors"
	"testing"
)

// TestStderrFilter feeds the filter the stderr of a command, cut at every
// possible point, and checks what reaches the caller.
func TestStderrFilter(t *testing.T) {
	const m = "osrun-0123456789abcdef"
	for _, tc := range []struct {
		name, in, want string
		become         bool
		wantPid        int
		wantReady      bool
	}{
		{name: "plain", in: m + " 42\nerr line\n", want: "err line\n", wantPid: 42},
		{name: "no newline at end", in: m + " 42\npartial", want: "partial", wantPid: 42},
		{name: "profile noise", in: "motd\n" + m + " 7\nx", want: "motd\nx", wantPid: 7},
		{name: "partial noise line", in: "warn: " + m + " 7\nx", want: "warn: \nx", wantPid: 7},
		{name: "become ready", in: m + " 9\n" + m + "-ready\nout\n", become: true, want: "out\n", wantPid: 9, wantReady: true},
		{name: "become sudo chatter held", in: m + " 9\nsudo: lecture\n" + m + "-ready\nout", become: true, want: "out", wantPid: 9, wantReady: true},
		{name: "become never ready", in: m + " 9\nsudo: a password is required\n", become: true, want: "", wantPid: 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for cut := 0; cut <= len(tc.in); cut++ {
				var out bytes.Buffer
				f := newStderrFilter(m, tc.become, &out)
				ready := false
				f.onReady = func() { ready = true }
				f.onPrompt = func(int) error { return nil }
				f.Write([]byte(tc.in[:cut]))
				f.Write([]byte(tc.in[cut:]))
				f.flush()
				if out.String() != tc.want || f.pgid() != tc.wantPid || ready != tc.wantReady {
					t.Fatalf("cut at %d: out %q pid %d ready %v; want %q %d %v", cut, out.String(), f.pgid(), ready, tc.want, tc.wantPid, tc.wantReady)
				}
			}
		})
	}
}

func TestStderrFilterPrompt(t *testing.T) {
	const m = "osrun-0123456789abcdef"
	in := m + " 9\n" + m + "-password:" + "Sorry, try again.\n" + m + "-password:"
	for cut := 0; cut <= len(in); cut++ {
		var out bytes.Buffer
		f := newStderrFilter(m, true, &out)
		var prompts []int
		f.onReady = func() {}
		f.onPrompt = func(n int) error {
			prompts = append(prompts, n)
			if n > 1 {
				return errRefused
			}
			return nil
		}
		f.Write([]byte(in[:cut]))
		f.Write([]byte(in[cut:]))
		if len(prompts) != 2 || prompts[1] != 2 || f.err() != errRefused || out.Len() != 0 {
			t.Fatalf("cut at %d: prompts %v, err %v, out %q", cut, prompts, f.err(), out.String())
		}
		select {
		case <-f.failed:
		default:
			t.Fatalf("cut at %d: failed not closed", cut)
		}
	}
}

var errRefused = errors.New("refused")
