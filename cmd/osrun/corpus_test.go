package main

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestInvalidCorpusThroughCLI runs every invalid inventory and playbook of
// the loaders' corpora through the real command line: each must exit 1
// with at least one located diagnostic and must never panic. (The loaders'
// own tests assert the exact summaries and lines.)
func TestInvalidCorpusThroughCLI(t *testing.T) {
	located := regexp.MustCompile(`(?m)^[^\s:]+\.hcl:\d+:\d+: error: `)
	type target struct {
		name string
		args []string
	}
	var targets []target
	invs, _ := filepath.Glob("../../inventory/testdata/invalid/*.hcl")
	for _, f := range invs {
		targets = append(targets, target{"inventory/" + filepath.Base(f), []string{"osrun", "inventory", "-i", f}})
	}
	pbs, _ := filepath.Glob("../../runner/playbook/testdata/invalid/*.hcl")
	for _, f := range pbs {
		targets = append(targets, target{"playbook/" + filepath.Base(f),
			[]string{"osrun", "validate", "-i", "../../runner/playbook/testdata/inventory.hcl", f}})
	}
	if len(invs) < 20 || len(pbs) < 15 {
		t.Fatalf("corpus too small: %d inventories, %d playbooks", len(invs), len(pbs))
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := func() (code int) {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic: %v", r)
					}
				}()
				return run(tg.args, strings.NewReader(""), &stdout, &stderr)
			}()
			if code != ExitConfig {
				t.Errorf("exit code %d, want %d\nstderr:\n%s", code, ExitConfig, stderr.String())
			}
			if !located.MatchString(stderr.String()) {
				t.Errorf("no located diagnostic (file:line:col: error:) in stderr:\n%s", stderr.String())
			}
			if strings.Contains(stderr.String(), "goroutine ") {
				t.Errorf("stderr looks like a crash:\n%s", stderr.String())
			}
		})
	}
}
