package playbook

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
)

// FuzzDecode feeds arbitrary source to the loader: it must never panic,
// and it returns a playbook exactly when it reports no error.
func FuzzDecode(f *testing.F) {
	for _, pattern := range []string{"testdata/valid/*.hcl", "testdata/invalid/*.hcl"} {
		files, _ := filepath.Glob(pattern)
		for _, path := range files {
			src, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	inv, reg := testInventory(f), testRegistry(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		file, diags := parseSource(hclparse.NewParser(), filepath.Join("testdata", "fuzz.hcl"), src)
		if file == nil {
			if !diags.HasErrors() {
				t.Fatal("Parse returned no file and no error")
			}
			return
		}
		pb, diags := file.Decode(inv, reg, nil, nil)
		if (pb == nil) != diags.HasErrors() {
			t.Fatalf("playbook %v with errors %v: %s", pb != nil, diags.HasErrors(), diags.Error())
		}
		if pb == nil {
			return
		}
		for _, w := range pb.Waves {
			_ = w.Batches(w.Hosts)
		}
	})
}
