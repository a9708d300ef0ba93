package playbook

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/osrun/osrun/internal/hclsource"
)

// parseHCLFile reads and parses a playbook or variable file within
// hclsource's limits on size and nesting.
func parseHCLFile(parser *hclparse.Parser, filename string) (*hcl.File, hcl.Diagnostics) {
	return hclsource.Parse(parser, filename)
}
