package hostscripttest

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// Golden compares got with the file at path, or rewrites the file when the
// test runs with -update.
func Golden(t testing.TB, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the rendered script (run with -update to accept):\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// SyntaxCheckSh parses script with /bin/sh -n (dash on Debian, close to
// POSIX), so a template that renders to invalid sh fails here rather than
// on a server.
func SyntaxCheckSh(t testing.TB, script string) {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-n")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sh -n: %v\n%s", err, out)
	}
}

// AllCovered fails for every template in names that no golden case
// rendered, so a new script cannot ship without a golden file.
func AllCovered(t testing.TB, names []string, covered map[string]bool) {
	t.Helper()
	for _, n := range names {
		if !covered[n] {
			t.Errorf("template %s has no golden case", n)
		}
	}
}
