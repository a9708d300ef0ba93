package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/urfave/cli/v2"
)

// fmtCommand rewrites inventories and playbooks in canonical HCL style.
func fmtCommand() *cli.Command {
	return &cli.Command{
		Name:      "fmt",
		Usage:     "rewrite HCL files in canonical style (-check: only report files that need it, for CI)",
		ArgsUsage: "FILE|DIR...",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "check", Usage: "change nothing; exit 1 listing the files that are not formatted"},
		},
		Action: func(c *cli.Context) error {
			paths := c.Args().Slice()
			if len(paths) == 0 {
				paths = []string{"."}
			}
			files, err := hclFiles(paths)
			if err != nil {
				return &configError{msg: err.Error()}
			}
			l := newLoader(c.App.ErrWriter)
			var unformatted []string
			for _, f := range files {
				src, err := os.ReadFile(f)
				if err != nil {
					return &configError{msg: err.Error()}
				}
				// Only well-formed files are rewritten: hclwrite keeps going
				// through syntax errors, and a formatter must not mangle them.
				if _, diags := l.parser.ParseHCL(src, f); diags.HasErrors() {
					return l.report(diags)
				}
				out := hclwrite.Format(src)
				if bytes.Equal(out, src) {
					continue
				}
				unformatted = append(unformatted, f)
				if c.Bool("check") {
					continue
				}
				info, err := os.Stat(f)
				if err != nil {
					return &configError{msg: err.Error()}
				}
				if err := os.WriteFile(f, out, info.Mode().Perm()); err != nil {
					return &configError{msg: err.Error()}
				}
			}
			for _, f := range unformatted {
				fmt.Fprintln(c.App.Writer, f)
			}
			if c.Bool("check") && len(unformatted) > 0 {
				return &configError{msg: fmt.Sprintf("%d file(s) need osrun fmt", len(unformatted))}
			}
			return nil
		},
	}
}

// hclFiles expands directories into the .hcl files below them.
func hclFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && (d.Name() == "testdata" || d.Name()[0] == '.') {
				return filepath.SkipDir
			}
			if !d.IsDir() && filepath.Ext(path) == ".hcl" {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
