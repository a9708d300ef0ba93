package waitdeployer_test

import (
	"testing"

	"github.com/osrun/osrun/modules/moduletest"
	"github.com/osrun/osrun/modules/waitdeployer"
)

// The documented example is a playbook the loader accepts.
func TestExampleDecodes(t *testing.T) {
	moduletest.CheckExample(t, waitdeployer.Definition(waitdeployer.Options{}), `
service_center "sc" {
  driver = "manual"
}
`+moduletest.Hosts)
}
