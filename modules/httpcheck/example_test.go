package httpcheck_test

import (
	"testing"

	"github.com/osrun/osrun/modules/httpcheck"
	"github.com/osrun/osrun/modules/moduletest"
)

// The documented example is a playbook the loader accepts.
func TestExampleDecodes(t *testing.T) {
	moduletest.CheckExample(t, httpcheck.Definition(httpcheck.Options{}), `
service_center "sc" {
  driver = "manual"
}
`+moduletest.Hosts)
}
