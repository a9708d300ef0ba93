package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// runLab runs the real command line against a fresh lab farm.
func runLab(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("NO_COLOR", "1")
	var out, errOut bytes.Buffer
	code = run(append([]string{"osrun", "apply", "--lab", "--state-dir", t.TempDir()}, args...), strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// The README's first command: the whole balanced upgrade of 2 zones of 4
// mixed front-ends under traffic, ending with a passing verdict.
func TestApplyLab(t *testing.T) {
	code, out, errOut := runLab(t, "../../playbooks/upgrade.hcl")
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !regexp.MustCompile(`lab verdict: PASS: [1-9]\d* requests sent, 0 failed, 0 invariant violations`).MatchString(out) {
		t.Errorf("no passing verdict:\n%s", out)
	}
	rows := regexp.MustCompile(`(?m)^  fe0\d.* 11\.30\.0 +11\.31\.0 +serving 11\.31\.0 +UP, in rotation +fe0\d: platform 11\.31\.0, components 11\.31\.0, deployment enabled, 4/4 threads sleeping$`).FindAllString(out, -1)
	if len(rows) != 8 {
		t.Errorf("%d front-ends upgraded, in rotation and deploying, want 8:\n%s", len(rows), out)
	}
}

// Negative control: upgrading without draining fails requests, and the
// exit code says so although every task succeeded.
func TestApplyLabWithoutDraining(t *testing.T) {
	// The plan verifier refuses this playbook; the flag lets the lab prove
	// that its monitor would have seen the downtime.
	code, out, errOut := runLab(t, "--allow-unsafe-plan", "../../lab/farm/testdata/upgrade_without_draining.hcl")
	if code != ExitHostFailed || !strings.Contains(out, "RECAP (success)") {
		t.Fatalf("exit %d, want %d after a successful run\nstdout:\n%s\nstderr:\n%s", code, ExitHostFailed, out, errOut)
	}
	if !regexp.MustCompile(`lab verdict: FAIL: \d+ requests sent, [1-9]\d* failed`).MatchString(out) || !strings.Contains(errOut, "the lab saw downtime") {
		t.Errorf("verdict:\n%s\nstderr:\n%s", out, errOut)
	}
}

// An installer failing on an updating front-end stops the run before the
// loaded front-ends are touched; the traffic they carry never fails. The
// wave's failure budget is 0, so the run ends with ExitBudget (README: the
// run stopped before the next batch or wave).
func TestApplyLabInstallerFailure(t *testing.T) {
	code, out, errOut := runLab(t, "--lab-fail-installer", "fe05", "../../playbooks/upgrade.hcl")
	if code != ExitBudget {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitBudget, out, errOut)
	}
	for _, want := range []string{
		"fe05           failed",
		"PlatformServer-11.31.0.exe /S failed with exit code 1603",
		`| ==> C:\Users\Administrator\AppData\Local\OutSystems\PlatformInstaller\PlatformInstaller.log <==`,
		"| Installing .NET Hosting Bundle: failed (0x80070643)",
		"lab verdict: PASS",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "failed: fe05") {
		t.Errorf("stderr does not name fe05:\n%s", errOut)
	}
	if strings.Contains(out, "wave 4/") || strings.Contains(out, "upgrade_loaded") && strings.Contains(out, "installer.loaded") {
		t.Errorf("the run went on after the failure:\n%s", out)
	}
}
