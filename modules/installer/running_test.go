package installer

import (
	"fmt"
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

// An earlier run's installer may end while the state script reads the
// host: whatever the moment, the state must never pair the version from
// before that installer with "no installer running", or Apply would start
// a second installer on a host that has just been upgraded. The host's
// head(1) is replaced by one that ends the installer (new version.txt, the
// process id file removed, the process killed) right after its nth read.
func TestJ2EEStateWhileTheInstallerEnds(t *testing.T) {
	realHead, err := exec.LookPath("head")
	if err != nil {
		t.Fatal(err)
	}
	for _, after := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("ends after read %d", after), func(t *testing.T) {
			h := newLinuxHost(t, "11.29.1")
			installer := exec.Command("sleep", "60")
			if err := installer.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() { installer.Wait(); close(exited) }()
			t.Cleanup(func() { installer.Process.Kill(); <-exited })
			running := filepath.Join(h.staging, "installer-running")
			writeFile(t, filepath.Join(h.staging, "pending-configuration"), "11.31.0\n", 0o644)
			writeFile(t, running, strconv.Itoa(installer.Process.Pid)+"\n", 0o644)

			bin := t.TempDir()
			count := filepath.Join(h.dir, "head-calls")
			writeFile(t, filepath.Join(bin, "head"), fmt.Sprintf(`#!/bin/sh
%s "$@"
echo x >> %s
if [ "$(wc -l < %[2]s)" -eq %d ]; then
	printf '11.31.0\n' > %s/version.txt
	rm -f %s
	kill %d
fi
`, realHead, count, after, h.home, running, installer.Process.Pid), 0o755)
			h.conn.Bin = bin

			a := mustBuild(t, h.args(map[string]any{"packages": packages(t, "version=11.31.0.45003\n")}))
			env, _ := hostEnv(h.conn, inventory.StackJ2EE, false)
			res, err := a.Check(t.Context(), env)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(res.Msg, "would upgrade") {
				t.Fatalf("the state paired the old version with no installer running: Check says %q", res.Msg)
			}
		})
	}
}
