package playbook

import (
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/internal/hclsource"
)

// File is a playbook whose syntax and top-level structure are valid but
// whose references are not yet resolved.
type File struct {
	Filename string
	// InventoryPath is the `inventory` attribute resolved against the
	// playbook's directory, "" when the playbook names none.
	InventoryPath  string
	InventoryRange hcl.Range

	parser    *hclparse.Parser
	variables []*hcl.Block
	waves     []*hcl.Block
	onFailure []*hcl.Block
}

var fileSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "inventory"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "wave", LabelNames: []string{"name"}},
		{Type: "on_failure", LabelNames: []string{"name"}},
	},
}

// Parse reads a playbook file with parser, which keeps the source so the
// caller can render diagnostics with snippets. It returns nil with error
// diagnostics when the file is not a playbook.
func Parse(parser *hclparse.Parser, filename string) (*File, hcl.Diagnostics) {
	hf, diags := parseHCLFile(parser, filename)
	return parseFile(parser, filename, hf, diags)
}

// parseSource is Parse for source already in memory (tests, fuzzing).
func parseSource(parser *hclparse.Parser, filename string, src []byte) (*File, hcl.Diagnostics) {
	hf, diags := hclsource.ParseSource(parser, filename, src)
	return parseFile(parser, filename, hf, diags)
}

func parseFile(parser *hclparse.Parser, filename string, hf *hcl.File, diags hcl.Diagnostics) (*File, hcl.Diagnostics) {
	if diags.HasErrors() || hf == nil {
		return nil, diags
	}
	content, more := hf.Body.Content(fileSchema)
	diags = append(diags, more...)
	f := &File{Filename: filename, parser: parser}
	for _, b := range content.Blocks {
		switch b.Type {
		case "variable":
			f.variables = append(f.variables, b)
		case "wave":
			f.waves = append(f.waves, b)
		case "on_failure":
			f.onFailure = append(f.onFailure, b)
		}
	}
	if attr, ok := content.Attributes["inventory"]; ok {
		path, more := staticString(attr, nil)
		diags = append(diags, more...)
		if !more.HasErrors() {
			if path == "" {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid inventory path",
					Detail:   "The inventory path must not be empty; remove the attribute to pass -i instead.",
					Subject:  attr.Expr.Range().Ptr(),
				})
			} else if !filepath.IsAbs(path) {
				path = filepath.Join(filepath.Dir(filename), path)
			}
			f.InventoryPath = path
			f.InventoryRange = attr.Expr.Range()
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return f, diags
}

// staticString evaluates attr as a string with ctx (nil: literals only).
func staticString(attr *hcl.Attribute, ctx *hcl.EvalContext) (string, hcl.Diagnostics) {
	v, diags := staticValue(attr, cty.String, ctx)
	if diags.HasErrors() || v.IsNull() {
		return "", diags
	}
	return v.AsString(), diags
}
