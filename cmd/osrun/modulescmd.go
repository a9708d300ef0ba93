package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/urfave/cli/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/modules"
)

// modulesCommand documents modules from their definitions, so the help
// cannot drift from what the loader accepts.
func modulesCommand() *cli.Command {
	return &cli.Command{
		Name:      "modules",
		Usage:     "list the built-in modules, or document one: osrun modules NAME",
		ArgsUsage: "[NAME]",
		Action: func(c *cli.Context) error {
			reg, err := registry()
			if err != nil {
				return err
			}
			if c.NArg() == 0 {
				tw := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
				for _, name := range reg.Names() {
					d, _ := reg.Lookup(name)
					fmt.Fprintf(tw, "%s\t%s\n", name, d.Summary)
				}
				return tw.Flush()
			}
			name := c.Args().First()
			d, ok := reg.Lookup(name)
			if !ok {
				return &configError{msg: fmt.Sprintf("no module named %q; `osrun modules` lists them", name)}
			}
			printModule(c.App.Writer, d)
			return nil
		},
	}
}

func printModule(w io.Writer, d *modules.Definition) {
	fmt.Fprintf(w, "%s — %s (runs on: %s)\n\n%s\n\nArguments:\n", d.Name, d.Summary, d.DefaultOn, d.Doc)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range d.Params {
		req := "optional"
		if p.Required {
			req = "required"
		}
		def := ""
		if p.Default != cty.NilVal && !p.Default.IsNull() {
			def = "default " + strings.TrimSpace(string(hclwrite.TokensForValue(p.Default).Bytes()))
		}
		doc := p.Doc
		if len(p.OneOf) > 0 {
			doc += " One of: " + strings.Join(p.OneOf, ", ") + "."
		}
		if p.Secret {
			doc += " Secret: env(\"NAME\") or file(\"path\") only."
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", p.Name, p.Type.FriendlyName(), req, def, doc)
	}
	tw.Flush()
	if d.Example != "" {
		fmt.Fprintf(w, "\nExample:\n%s\n", indent(d.Example, "  "))
	}
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n")
}
