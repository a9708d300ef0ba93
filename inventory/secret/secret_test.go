package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// Wrong verbs, kept out of vet's sight on purpose.
var wrongVerbS, wrongVerbD = "%s", "%d"

func TestValueNeverPrintsItself(t *testing.T) {
	const plain = "hunter2-very-secret"
	v := New(plain, `env("OSRUN_WINRM_PASSWORD")`)
	type holder struct {
		Password Value
		Ptr      *Value
	}
	h := holder{Password: v, Ptr: &v}

	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("connect", "password", v, "holder", h)
	var jsonLogged bytes.Buffer
	slog.New(slog.NewJSONHandler(&jsonLogged, nil)).Info("connect", "password", v)
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}

	outputs := map[string]string{
		"String":   v.String(),
		"GoString": v.GoString(),
		"%v":       fmt.Sprintf("%v", v),
		"%+v":      fmt.Sprintf("%+v", h),
		"%#v":      fmt.Sprintf("%#v", h),
		"%s":       fmt.Sprintf("%s", v),
		"%q":       fmt.Sprintf("%q", v),
		"%x":       fmt.Sprintf("%x", v),
		"%v ptr":   fmt.Sprintf("%v", &v),
		"slog":     logged.String(),
		"slogjson": jsonLogged.String(),
		"json":     string(js),
		// A wrong verb makes fmt print nested fields without their methods.
		"wrong verb %s nested ptr": fmt.Sprintf(wrongVerbS, struct{ P *holder }{&h}),
		"wrong verb %d":            fmt.Sprintf(wrongVerbD, h),
	}
	for name, out := range outputs {
		if strings.Contains(out, plain) {
			t.Errorf("%s leaked the secret: %s", name, out)
		}
		// A wrong verb may show an address instead; it must not show the secret.
		if !strings.HasPrefix(name, "wrong verb") && !strings.Contains(out, Redacted) {
			t.Errorf("%s = %q, want it to say %s", name, out, Redacted)
		}
	}
	if v.Reveal() != plain {
		t.Errorf("Reveal() = %q, want the secret", v.Reveal())
	}
}
