package playbook

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

var errorMarker = regexp.MustCompile(`#\s*ERROR:\s*(.+?)\s*$`)

// TestInvalid decodes each playbook of testdata/invalid, where the line
// that must be reported ends with "# ERROR: <summary>". The loader must
// report exactly that error, located on that line of that file, and
// nothing else.
func TestInvalid(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.hcl"))
	if err != nil || len(files) < 15 {
		t.Fatalf("want at least 15 invalid playbooks, found %d (%v)", len(files), err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".hcl"), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			wantLine, wantSummary := 0, ""
			for i, line := range strings.Split(string(src), "\n") {
				if m := errorMarker.FindStringSubmatch(line); m != nil {
					wantLine, wantSummary = i+1, m[1]
				}
			}
			if wantLine == 0 {
				t.Fatal("no # ERROR: marker")
			}

			diags := load(t, path)
			errs := errorsOf(diags)
			if len(errs) != 1 {
				t.Fatalf("want exactly one error %q on line %d, got %d:\n%s", wantSummary, wantLine, len(errs), diags.Error())
			}
			d := errs[0]
			if d.Summary != wantSummary {
				t.Errorf("summary = %q, want %q (detail: %s)", d.Summary, wantSummary, d.Detail)
			}
			if d.Subject == nil {
				t.Fatalf("diagnostic %q has no subject", d.Summary)
			}
			if d.Subject.Filename != path || d.Subject.Start.Line != wantLine {
				t.Errorf("subject = %s, want line %d of %s", d.Subject, wantLine, path)
			}
		})
	}
}

func load(t *testing.T, path string) hcl.Diagnostics {
	t.Helper()
	f, diags := Parse(hclparse.NewParser(), path)
	if diags.HasErrors() {
		if f != nil {
			t.Error("Parse returned a file with error diagnostics")
		}
		return diags
	}
	pb, more := f.Decode(testInventory(t), testRegistry(t), nil, nil)
	diags = append(diags, more...)
	if diags.HasErrors() != (pb == nil) {
		t.Errorf("Decode returned playbook %v with errors %v", pb != nil, diags.HasErrors())
	}
	return diags
}

func errorsOf(diags hcl.Diagnostics) []*hcl.Diagnostic {
	var out []*hcl.Diagnostic
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			out = append(out, d)
		}
	}
	return out
}
