package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/runner/playbook"
	"github.com/osrun/osrun/runner/verify"
)

// loader keeps one hclparse.Parser for the whole invocation so every
// diagnostic can be rendered with its source snippet.
type loader struct {
	parser *hclparse.Parser
	stderr io.Writer
	color  bool
}

func newLoader(stderr io.Writer) *loader {
	return &loader{parser: hclparse.NewParser(), stderr: stderr, color: useColor(stderr)}
}

// report prints diagnostics (warnings too) and turns errors into a configError.
func (l *loader) report(diags hcl.Diagnostics) error {
	if len(diags) == 0 {
		return nil
	}
	width := uint(100)
	if f, ok := l.stderr.(*os.File); ok {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 20 {
			width = uint(w)
		}
	}
	wr := hcl.NewDiagnosticTextWriter(l.stderr, l.parser.Files(), width, l.color)
	for _, d := range diags {
		// A grep-able file:line:col line first (editors and CI annotate
		// it), then hcl's snippet with the offending range underlined.
		if d.Subject != nil {
			sev := "error"
			if d.Severity == hcl.DiagWarning {
				sev = "warning"
			}
			fmt.Fprintf(l.stderr, "%s:%d:%d: %s: %s\n", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, sev, d.Summary)
		}
		_ = wr.WriteDiagnostic(d)
	}
	if diags.HasErrors() {
		n := 0
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				n++
			}
		}
		return &configError{msg: fmt.Sprintf("%d configuration error(s); nothing was changed", n)}
	}
	return nil
}

func (l *loader) inventory(path string) (*inventory.Inventory, error) {
	inv, diags := inventory.Load(l.parser, path)
	if err := l.report(diags); err != nil {
		return nil, err
	}
	return inv, nil
}

// loaded is a playbook decoded against its inventory.
type loaded struct {
	inv *inventory.Inventory
	pb  *playbook.Playbook
	// Absolute paths, as recorded in journals and lock files.
	playbookPath, inventoryPath string
}

// playbook parses the playbook, loads the inventory it names (or -i), and
// decodes the playbook against it and the module registry.
func (l *loader) playbook(c *cli.Context, reg *modules.Registry) (*loaded, error) {
	if c.NArg() != 1 {
		return nil, &configError{msg: "expected exactly one playbook file (e.g. osrun " + c.Command.Name + " playbooks/upgrade.hcl)"}
	}
	path := c.Args().First()
	file, diags := playbook.Parse(l.parser, path)
	if err := l.report(diags); err != nil {
		return nil, err
	}
	invPath := c.String("inventory")
	if invPath == "" {
		invPath = file.InventoryPath
	}
	if invPath == "" {
		return nil, &configError{msg: fmt.Sprintf("%s names no inventory: add inventory = \"path/to/inventory.hcl\" to it or pass -i FILE", path)}
	}
	inv, err := l.inventory(invPath)
	if err != nil {
		return nil, err
	}
	vars, err := parseVars(c.StringSlice("var"))
	if err != nil {
		return nil, err
	}
	pb, diags := file.Decode(inv, reg, vars, c.StringSlice("var-file"))
	if err := l.report(diags); err != nil {
		return nil, err
	}
	// Before anything connects, prove the playbook keeps every zone
	// serving and never upgrades a front-end in rotation.
	var limit []string
	if c.IsSet("limit") {
		limit = splitList(c.StringSlice("limit"))
	}
	if diags := verify.Verify(pb, inv, limit); diags.HasErrors() && c.Bool("allow-unsafe-plan") {
		// Only for experiments (the lab's negative controls): say it loudly.
		l.report(asWarnings(diags))
		fmt.Fprintln(l.stderr, "osrun: WARNING: --allow-unsafe-plan: running a playbook the plan verifier refuses; front-ends may be upgraded while they serve traffic")
	} else if err := l.report(diags); err != nil {
		return nil, err
	}
	return &loaded{inv: inv, pb: pb, playbookPath: absPath(path), inventoryPath: absPath(invPath)}, nil
}

func parseVars(kvs []string) (map[string]string, error) {
	vars := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, &configError{msg: fmt.Sprintf("--var %q: want NAME=VALUE", kv)}
		}
		vars[k] = v
	}
	return vars, nil
}

// splitList turns "fe01,fe02 group.x" into names; --limit accepts commas or spaces.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			out = append(out, f)
		}
	}
	return out
}

// terminalSize is the size of w when it is a terminal.
func terminalSize(w io.Writer) (width, height int, ok bool) {
	f, isFile := w.(*os.File)
	if !isFile || !term.IsTerminal(int(f.Fd())) {
		return 0, 0, false
	}
	width, height, err := term.GetSize(int(f.Fd()))
	if err != nil || width < 20 || height < 5 {
		return 0, 0, false
	}
	return width, height, true
}

// isTerminal reports whether r is an interactive terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// useColor: only on a terminal, never with NO_COLOR (https://no-color.org).
func useColor(w io.Writer) bool {
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// playbookParse parses a playbook only to learn which inventory it names.
func playbookParse(l *loader, path string) (string, hcl.Diagnostics) {
	f, diags := playbook.Parse(l.parser, path)
	if f == nil {
		return "", diags
	}
	return f.InventoryPath, diags
}

func asWarnings(diags hcl.Diagnostics) hcl.Diagnostics {
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		w := *d
		w.Severity = hcl.DiagWarning
		out[i] = &w
	}
	return out
}
