package inventory

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/osrun/osrun/inventory/secret"
)

// TestSecretsNeverPrint loads secrets through env() into the connection
// settings, a driver's settings and a host's vars, then prints everything
// every way a log line or report might.
func TestSecretsNeverPrint(t *testing.T) {
	const (
		winrmPW = "winrm-hunter2-8d1f"
		f5PW    = "f5-hunter2-77ab"
	)
	t.Setenv("OSRUN_WINRM_PASSWORD", winrmPW)
	t.Setenv("OSRUN_F5_PASSWORD", f5PW)
	src := loadFixture(t, "testdata/valid/farm.hcl") + `
host "extra" {
  address = "10.1.0.13"
  stack   = "j2ee"
  zone    = zone.porto
  vars    = { token = env("OSRUN_F5_PASSWORD"), plain = "visible" }
  ssh {
    become_password = env("OSRUN_WINRM_PASSWORD")
    jump {
      address  = "bastion"
      password = env("OSRUN_F5_PASSWORD")
    }
  }
}
`
	// The fixture's declared split must place the extra front-end.
	src = strings.Replace(src, "loaded   = [host.fe03, host.fe04, host.pt02]", "loaded   = [host.fe03, host.fe04, host.pt02, host.extra]", 1)
	parser := hclparse.NewParser()
	inv, diags := LoadSource(parser, "farm.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(render(parser, diags))
	}
	if inv.Host("fe01").WinRM.Password.Reveal() != winrmPW {
		t.Fatal("the password did not load")
	}

	// Playbooks see vars through HostValue; the secret keeps its mark there.
	tok := inv.HostValue(inv.Host("extra")).GetAttr("vars").GetAttr("token")
	if s, ok := secret.FromCty(tok); !ok || s.Reveal() != f5PW {
		t.Errorf("host.vars.token = %#v, want the marked secret", tok)
	}

	outputs := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		// %s is a wrong verb for the pointers an Inventory holds, and fmt
		// then prints them by reflection, skipping every Format method; a
		// secret.Value survives that, a cty value in Values cannot.
		if verb != "%s" {
			outputs["inventory "+verb] = fmt.Sprintf(verb, inv)
			outputs["deref inventory "+verb] = fmt.Sprintf(verb, *inv)
		}
		for _, h := range inv.Hosts {
			outputs[h.Name+" "+verb] = fmt.Sprintf(verb, *h)
			outputs[h.Name+" value "+verb] = fmt.Sprintf(verb, inv.Host(h.Name).Vars)
		}
		for name, ep := range inv.LoadBalancers {
			outputs["lb "+name+" "+verb] = fmt.Sprintf(verb, *ep)
		}
	}
	js, err := json.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	outputs["json"] = string(js)
	if !strings.Contains(string(js), `"plain":"visible"`) {
		t.Errorf("json lost plain vars: %s", js)
	}
	if !strings.Contains(outputs["extra %+v"], "visible") {
		t.Errorf("%%+v lost plain vars: %s", outputs["extra %+v"])
	}
	for name, out := range outputs {
		for _, pw := range []string{winrmPW, f5PW} {
			if strings.Contains(out, pw) {
				t.Errorf("%s leaked a secret: %s", name, out)
			}
		}
	}
}
