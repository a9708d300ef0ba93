package lbmember_test

import (
	"testing"

	"github.com/osrun/osrun/modules/lbmember"
	"github.com/osrun/osrun/modules/moduletest"
)

// The documented example is a playbook the loader accepts, against an
// inventory with a load_balancer block as the README shows it.
func TestExampleDecodes(t *testing.T) {
	inv := moduletest.CheckExample(t, lbmember.Definition(lbmember.Options{}), `
load_balancer "main" {
  driver  = "haproxy"
  socket  = "/run/haproxy/admin.sock"
  backend = "outsystems"
}
`+moduletest.Hosts)
	// The inventory's endpoint opens with the built-in haproxy driver.
	if _, err := lbmember.Builtin().Open(inv.LoadBalancers["main"]); err != nil {
		t.Errorf("open the README's load balancer: %v", err)
	}
}
