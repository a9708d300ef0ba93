package live

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osrun/osrun/runner"
)

// A real terminal checks what a fake writer cannot: that the cursor
// arithmetic leaves the screen with the lasting lines and one final frame,
// no stale lines from earlier frames. The test binary runs itself inside a
// tmux pane as the "terminal program", and the test reads the pane back.

const ttyHelperEnv = "OSRUN_LIVE_TTY_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(ttyHelperEnv) == "1" {
		ttyHelper()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// ttyHelper draws a run on stdout with frames that grow and shrink, lasting
// lines in between and a pause for a prompt, then prints a line after the
// view stopped.
func ttyHelper() {
	c := &clock{t0}
	v := New(os.Stdout, Options{Width: 80, Now: c.Now})
	evs := midRun()
	for _, e := range evs {
		c.now = e.Time
		v.Emit(e)
		v.Draw()
	}
	v.SetTraffic(1200, 0) // one more line
	v.Draw()
	v.Pause()
	fmt.Println("confirm the Deployment Service finished? yes")
	v.Resume()
	v.Emit(ev(runner.HostTaskEnd, 6*time.Minute, runner.Event{Wave: "loaded", Host: "fe03", Task: "lb_member.drain", Status: runner.StatusChanged, Duration: time.Minute,
		Msg: "fe03 enabled -> disabled (0 sessions)"}))
	v.Emit(ev(runner.RunEnd, 6*time.Minute, runner.Event{Status: runner.StatusFailed, Msg: "failed", Duration: 6 * time.Minute}))
	v.Stop()
	fmt.Println("RECAP (failed)")
}

func TestRealTerminal(t *testing.T) {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed: the real terminal check is skipped (the fake writer tests still run)")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "tmux") // a private server, removed with the directory
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(t.Context(), tmux, append([]string{"-S", sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// The pane's shell signals "drawn" when the helper is done, then
	// waits for "read" so the pane stays until the test has captured it.
	script := fmt.Sprintf("%s=1 TERM=xterm %q -test.run=^$; %q -S %q wait-for -S drawn; %q -S %q wait-for read",
		ttyHelperEnv, self, tmux, sock, tmux, sock)
	run("new-session", "-d", "-x", "100", "-y", "40", "sh", "-c", script)
	t.Cleanup(func() { _ = exec.Command(tmux, "-S", sock, "kill-server").Run() })
	run("wait-for", "drawn")
	screen := run("capture-pane", "-p")
	run("wait-for", "-S", "read")

	var got []string
	for _, l := range strings.Split(screen, "\n") {
		if l = strings.TrimRight(l, " "); l != "" {
			got = append(got, l)
		}
	}
	want := []string{
		"wave 1/2 updating [fe01, fe02] the updating set",
		"wave 2/2 loaded [fe03, fe04]",
		"fe04 failed installer.platform: installer exited with status 1603",
		"confirm the Deployment Service finished? yes",
		"osrun run-42 · apply · failed · 6m0s",
		"  requests served 1200, failed 0",
		"  fe01 changed        4m0s  installer.platform  upgraded 11.29.1 → 11.31.0",
		"  fe02 ok             4m0s  installer.platform",
		"  fe03 changed        1m0s  lb_member.drain     fe03 enabled -> disabled (0 ses", // cut to 79 columns
		"  fe04 failed          30s  installer.platform  installer exited with status 16",
		"RECAP (failed)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("screen:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
