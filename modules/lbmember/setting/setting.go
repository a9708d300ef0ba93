package setting

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/osrun/osrun/inventory/secret"
)

// Reader reads one endpoint's settings and remembers what went wrong.
type Reader struct {
	what     string // "load balancer lb1 (haproxy)", for messages
	settings map[string]cty.Value
	read     map[string]bool
	errs     []error
}

// New reads settings of the endpoint described by what.
func New(what string, settings map[string]cty.Value) *Reader {
	return &Reader{what: what, settings: settings, read: map[string]bool{}}
}

func (r *Reader) errorf(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("setting %s: "+format, append([]any{name}, args...)...))
}

// value returns the named setting converted to ty, or a null value.
func (r *Reader) value(name string, ty cty.Type) (cty.Value, bool) {
	r.read[name] = true
	v, ok := r.settings[name]
	if !ok || v.IsNull() {
		return cty.NullVal(ty), false
	}
	if secret.IsMarked(v) {
		r.errorf(name, "is a secret reference, but this setting is not a secret")
		return cty.NullVal(ty), false
	}
	v, _ = v.UnmarkDeep()
	if !v.IsWhollyKnown() {
		r.errorf(name, "is not known")
		return cty.NullVal(ty), false
	}
	c, err := convert.Convert(v, ty)
	if err != nil {
		r.errorf(name, "want %s: %v", ty.FriendlyName(), err)
		return cty.NullVal(ty), false
	}
	return c, true
}

// Has reports whether the setting is present (and marks it read).
func (r *Reader) Has(name string) bool {
	r.read[name] = true
	v, ok := r.settings[name]
	return ok && !v.IsNull()
}

// String returns an optional string setting, or def when absent.
func (r *Reader) String(name, def string) string {
	v, ok := r.value(name, cty.String)
	if !ok {
		return def
	}
	return v.AsString()
}

// Required returns a string setting that must be present and non-empty.
func (r *Reader) Required(name string) string {
	s := r.String(name, "")
	if s == "" && !r.failed(name) {
		r.errorf(name, "is required")
	}
	return s
}

func (r *Reader) failed(name string) bool {
	prefix := "setting " + name + ":"
	for _, e := range r.errs {
		if strings.HasPrefix(e.Error(), prefix) {
			return true
		}
	}
	return false
}

// URL returns a required setting that must be an http or https URL with a
// host; want completes "is not …" in the message, e.g. "an https URL such
// as https://f5.example".
func (r *Reader) URL(name, want string) string {
	s := r.Required(name)
	if u, err := url.Parse(s); s != "" && (err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "") {
		r.errorf(name, "%q is not %s", s, want)
	}
	return s
}

// Bool returns an optional bool setting.
func (r *Reader) Bool(name string, def bool) bool {
	v, ok := r.value(name, cty.Bool)
	if !ok {
		return def
	}
	return v.True()
}

// Int returns an optional whole-number setting.
func (r *Reader) Int(name string, def int) int {
	v, ok := r.value(name, cty.Number)
	if !ok {
		return def
	}
	var n int
	if err := gocty.FromCtyValue(v, &n); err != nil {
		r.errorf(name, "want a whole number: %v", err)
		return def
	}
	return n
}

// Duration returns an optional duration setting written like "30s".
func (r *Reader) Duration(name string, def time.Duration) time.Duration {
	s := r.String(name, "")
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		r.errorf(name, "%q is not a duration (try \"30s\" or \"5m\")", s)
		return def
	}
	return d
}

// StringMap returns an optional map(string) setting, e.g. extra headers.
func (r *Reader) StringMap(name string) map[string]string {
	v, ok := r.value(name, cty.Map(cty.String))
	if !ok {
		return nil
	}
	out := map[string]string{}
	for k, e := range v.AsValueMap() {
		if !e.IsNull() {
			out[k] = e.AsString()
		}
	}
	return out
}

// Secret returns an optional secret. A plain literal is refused: secrets
// must come from env() or file() so they never sit in a committed file.
func (r *Reader) Secret(name string) secret.Value {
	r.read[name] = true
	v, ok := r.settings[name]
	if !ok || v.IsNull() {
		return secret.Value{}
	}
	s, ok := secret.FromCty(v)
	if !ok {
		r.errorf(name, "must be a secret reference such as env(\"LB_PASSWORD\") or file(\"lb.pass\"), not a literal")
		return secret.Value{}
	}
	return s
}

// Fail records a problem the driver found while interpreting settings.
func (r *Reader) Fail(name, format string, args ...any) {
	r.errorf(name, format, args...)
}

// Err returns every problem found so far, plus one for each setting that
// was never read (a typo or a setting of another driver).
func (r *Reader) Err() error {
	errs := slices.Clone(r.errs)
	for _, k := range slices.Sorted(maps.Keys(r.settings)) {
		if !r.read[k] {
			errs = append(errs, fmt.Errorf("setting %s: unknown to this driver", k))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %w", r.what, errors.Join(errs...))
}

// HTTPClient builds a client from the settings ca_file (PEM roots to trust
// instead of the system's), insecure (skip certificate checks) and timeout
// (per request, default 30s).
func (r *Reader) HTTPClient() *http.Client {
	caFile, insecure := r.String("ca_file", ""), r.Bool("insecure", false)
	timeout := r.Duration("timeout", 30*time.Second)
	tlsCfg := &tls.Config{InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		pool := x509.NewCertPool()
		switch {
		case err != nil:
			r.errorf("ca_file", "%v", err)
		case !pool.AppendCertsFromPEM(pem):
			r.errorf("ca_file", "no PEM certificates in %s", caFile)
		}
		tlsCfg.RootCAs = pool
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	return &http.Client{Transport: tr, Timeout: timeout}
}
