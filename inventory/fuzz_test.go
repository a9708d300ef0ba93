package inventory

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
)

func loadFixture(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzLoad checks that no input panics the loader and that a nil
// inventory always comes with an error to show the user.
func FuzzLoad(f *testing.F) {
	files, err := filepath.Glob("testdata/*/*.hcl")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		f.Add(loadFixture(f, file))
	}
	f.Fuzz(func(t *testing.T, src string) {
		inv, diags := LoadSource(hclparse.NewParser(), "fuzz.hcl", []byte(src))
		if inv == nil && !diags.HasErrors() {
			t.Fatalf("nil inventory without an error; diagnostics: %v", diags)
		}
		if inv != nil && diags.HasErrors() {
			t.Fatalf("inventory returned with errors: %v", diags)
		}
		if inv == nil {
			return
		}
		for _, h := range inv.Hosts {
			_ = inv.HostValue(h)
		}
	})
}
