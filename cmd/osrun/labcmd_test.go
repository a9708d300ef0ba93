package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// osrun lab up runs the farm until SIGTERM, having written an inventory
// and a variables file that validate with the shipped playbook; then it
// prints the verdict and the installer runs per host, and exits 0 when
// no request failed.
func TestLabUp(t *testing.T) {
	bin, err := exec.LookPath("osrun") // the test binary, as TestMain registers it
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "lab")
	cmd := exec.Command(bin, "lab", "up", "--dir", dir, "--lab-zones", "1", "--lab-frontends", "2")
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })

	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "lab: running (pid") {
			break
		}
	}
	if !strings.Contains(out.String(), "lab: running (pid") {
		cmd.Wait()
		t.Fatalf("lab up did not start:\n%s\nstderr:\n%s", out.String(), stderr.String())
	}
	want := "osrun apply -i " + filepath.Join(dir, "inventory.hcl") + " --var-file " + filepath.Join(dir, labVarsFile)
	if !strings.Contains(out.String(), want) {
		t.Errorf("lab up does not say how to run against it (%q):\n%s", want, out.String())
	}

	// What it wrote is a valid inventory and variables file for the playbook.
	var vout, verr bytes.Buffer
	if code := run([]string{"osrun", "validate", "-i", filepath.Join(dir, "inventory.hcl"), "--var-file", filepath.Join(dir, labVarsFile), "../../playbooks/upgrade.hcl"}, strings.NewReader(""), &vout, &verr); code != ExitOK {
		t.Errorf("validate: exit %d\n%s%s", code, vout.String(), verr.String())
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stdout)
	out.Write(rest)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("lab up: %v\n%s\nstderr:\n%s", err, out.String(), stderr.String())
	}
	for _, re := range []string{
		`lab verdict: PASS: [1-9]\d* requests sent, 0 failed, 0 invariant violations`,
		`installer runs: fe01=0 fe02=0`,
	} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("output lacks %s:\n%s", re, out.String())
		}
	}
}
