package hostscript

import (
	"bytes"
	"fmt"
	"io/fs"
	"text/template"
)

// Templates is a parsed set of script templates.
type Templates struct {
	t *template.Template
}

// Parse reads the templates matching patterns from fsys (usually an
// embed.FS). Templates see two functions: "ps" and "sh", which quote a
// string for PowerShell and POSIX sh. A missing field is an error rather
// than an empty string, so a typo cannot silently drop an argument.
func Parse(fsys fs.FS, patterns ...string) (*Templates, error) {
	t, err := template.New("").
		Option("missingkey=error").
		Funcs(template.FuncMap{"ps": PS, "sh": Sh}).
		ParseFS(fsys, patterns...)
	if err != nil {
		return nil, fmt.Errorf("parse host scripts: %w", err)
	}
	return &Templates{t: t}, nil
}

// MustParse is Parse for package-level variables holding embedded
// templates, where a failure is a build defect caught by any test.
func MustParse(fsys fs.FS, patterns ...string) *Templates {
	t, err := Parse(fsys, patterns...)
	if err != nil {
		panic(err)
	}
	return t
}

// Render executes the template with the given file name (e.g.
// "status.ps1") against data.
func (t *Templates) Render(name string, data any) (string, error) {
	var b bytes.Buffer
	if err := t.t.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("render host script %s: %w", name, err)
	}
	return b.String(), nil
}

// Names lists the templates in the set, for tests that render them all.
func (t *Templates) Names() []string {
	var names []string
	for _, x := range t.t.Templates() {
		if x.Name() != "" {
			names = append(names, x.Name())
		}
	}
	return names
}
