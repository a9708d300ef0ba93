package playbook

import (
	"testing"

	"github.com/osrun/osrun/inventory/secret"
)

func TestVarsDigest(t *testing.T) {
	const src = `
variable "target_version" {
  type    = string
  default = "11.31.0"
}
variable "password" {
  type    = string
  default = env("OSRUN_TEST_DIGEST_SECRET")
}
`
	digest := func(vars map[string]string) string {
		pb, diags := decodeSource(t, src, vars)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		if !secret.IsMarked(pb.Vars["password"]) {
			t.Fatal("env() did not mark the password: the test proves nothing about secrets")
		}
		return pb.VarsDigest()
	}
	t.Setenv("OSRUN_TEST_DIGEST_SECRET", "hunter2")
	base := digest(nil)
	if again := digest(nil); again != base {
		t.Errorf("the same values digest differently: %s, %s", base, again)
	}
	if same := digest(map[string]string{"target_version": "11.31.0"}); same != base {
		t.Error("a --var equal to the default changed the digest")
	}
	if other := digest(map[string]string{"target_version": "11.32.0"}); other == base {
		t.Error("another target version has the same digest")
	}
	t.Setenv("OSRUN_TEST_DIGEST_SECRET", "rotated")
	if rotated := digest(nil); rotated != base {
		t.Error("the digest depends on a secret's value")
	}
}
