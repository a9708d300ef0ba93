package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/modules.md from the module definitions")

// TestModulesReferenceIsCurrent keeps docs/modules.md generated from the
// module definitions themselves, so the reference cannot drift from what
// the loader accepts. Regenerate with: go test ./cmd/osrun -run ModulesReference -update
func TestModulesReferenceIsCurrent(t *testing.T) {
	reg, err := registry()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.WriteString("# Module reference\n\nGenerated from the module definitions by `go test ./cmd/osrun -run ModulesReference -update`; `osrun modules NAME` prints the same.\n")
	for _, name := range reg.Names() {
		d, _ := reg.Lookup(name)
		fmt.Fprintf(&buf, "\n## %s\n\n```\n", name)
		printModule(&buf, d)
		buf.WriteString("```\n")
	}
	const path = "../../docs/modules.md"
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(have, buf.Bytes()) {
		t.Errorf("docs/modules.md is out of date with the module definitions; run: go test ./cmd/osrun -run ModulesReference -update")
	}
}
