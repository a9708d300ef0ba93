package installer

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/osrun/osrun/inventory"
)

// A run that died (or lost its connection) while the installer ran left
// it running: the resume's Check says so, and Apply waits for that
// installer and finishes its configuration instead of starting another.
func TestJ2EEInstallerStillRunning(t *testing.T) {
	h := newLinuxHost(t, "11.29.1")
	a := mustBuild(t, h.args(map[string]any{"packages": packages(t, "version=11.31.0.45003\n")}))
	env, progress := hostEnv(h.conn, inventory.StackJ2EE, false)
	waiting := make(chan struct{})
	var once sync.Once
	say := env.Progress
	env.Progress = func(s string) {
		say(s)
		if strings.Contains(s, "waiting for it") {
			once.Do(func() { close(waiting) })
		}
	}

	// The earlier run's installer: it upgrades once the test lets it.
	installer := exec.Command("sh", "-c", `read go; printf '11.31.0\n' > "$1/version.txt"`, "sh", h.home)
	release, err := installer.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := installer.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- installer.Wait() }()
	t.Cleanup(func() {
		release.Close()
		<-exited
	})
	writeFile(t, filepath.Join(h.staging, "pending-configuration"), "11.31.0\n", 0o644)
	writeFile(t, filepath.Join(h.staging, "installer-running"), strconv.Itoa(installer.Process.Pid)+"\n", 0o644)

	check, err := a.Check(t.Context(), env)
	if err != nil {
		t.Fatal(err)
	}
	if !check.Changed || !strings.Contains(check.Msg, "still running (process "+strconv.Itoa(installer.Process.Pid)+")") {
		t.Errorf("Check = %v %q", check.Changed, check.Msg)
	}

	type result struct {
		msg string
		err error
	}
	applied := make(chan result, 1)
	go func() {
		res, err := a.Apply(t.Context(), env)
		applied <- result{res.Msg, err}
	}()
	// Let the installer finish only once Apply is waiting for it.
	select {
	case <-waiting:
	case r := <-applied:
		t.Fatalf("Apply did not wait for the running installer: %q, %v\nprogress:\n%s", r.msg, r.err, progress)
	}
	if _, err := release.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		t.Fatal(err)
	}
	exited <- nil // for the cleanup
	r := <-applied
	if r.err != nil || r.msg != "finished the configuration of 11.31.0" {
		t.Fatalf("Apply = %q, %v\nprogress:\n%s", r.msg, r.err, progress)
	}
	if got := h.read("rpm.log"); got != "" {
		t.Errorf("a second installer ran: rpm.log %q", got)
	}
	if len(h.conn.Uploads()) != 0 {
		t.Errorf("the packages were uploaded again")
	}
	if got := h.read("configtool.log"); got != "/silent /upgradeinstall\n" {
		t.Errorf("configurationtool.sh ran with %q", got)
	}
}
