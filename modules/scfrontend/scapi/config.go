package scapi

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/osrun/osrun/inventory/secret"
)

// Config is the decoded settings of a service_center block with driver "http".
type Config struct {
	URL      string // base URL, without a trailing slash
	Token    secret.Value
	User     string
	Password secret.Value
	Headers  map[string]Header
	Insecure bool
	CAFile   string
	// RequestTimeout bounds each request.
	RequestTimeout time.Duration

	GetFrontend   Request
	SetDeployment Request
	GetDeployer   Request
}

// Request is one configurable call. URL and Body are templates (see
// expand); the reading fields apply to the call whose answer they describe.
type Request struct {
	Method       string
	URL          string
	Body         string
	Headers      map[string]Header
	ExpectStatus []int

	// get_frontend: where the deployment state is and how it is spelled.
	StatePath     string
	EnabledValue  string
	DisabledValue string

	// get_deployer: where the threads are and how to read them.
	ThreadsPath    string
	StatusField    string
	IDField        string
	ServicePath    string
	RunningValue   string
	SleepingValues []string
}

// Header is a header value, plain or from a secret reference.
type Header struct {
	Plain  string
	Secret secret.Value
}

func (h Header) reveal() string {
	if !h.Secret.IsZero() {
		return h.Secret.Reveal()
	}
	return h.Plain
}

// Defaults of the documented contract.
var (
	defaultGetFrontend = Request{
		Method: "GET", URL: "{url}/frontends/{name}", ExpectStatus: []int{200},
		StatePath: "deployment", EnabledValue: "enabled", DisabledValue: "disabled",
	}
	defaultSetDeployment = Request{
		Method: "PUT", URL: "{url}/frontends/{name}/deployment", Body: `{"enabled":{enabled}}`,
		ExpectStatus: []int{200, 204},
	}
	defaultGetDeployer = Request{
		Method: "GET", URL: "{url}/frontends/{name}/deployer", ExpectStatus: []int{200},
		ThreadsPath: "threads", StatusField: "status", IDField: "id",
		ServicePath: "service", RunningValue: "running", SleepingValues: []string{"Sleeping", "Idle"},
	}
)

// placeholders are what URL and body templates may use.
var placeholders = []string{"url", "name", "enabled", "deployment", "action"}

var placeholderRE = regexp.MustCompile(`\{([a-z_]+)\}`)

// reader decodes one object of settings and collects every problem, so
// an operator sees all mistakes of a block at once.
type reader struct {
	what string
	m    map[string]cty.Value
	read map[string]bool
	errs *[]error
}

func (r reader) fail(name, format string, args ...any) {
	*r.errs = append(*r.errs, fmt.Errorf("setting %s%s: %s", r.what, name, fmt.Sprintf(format, args...)))
}

func (r reader) value(name string, ty cty.Type) (cty.Value, bool) {
	r.read[name] = true
	v, ok := r.m[name]
	if !ok || v.IsNull() {
		return cty.NilVal, false
	}
	if secret.IsMarked(v) {
		r.fail(name, "is a secret reference, but this setting is not a secret")
		return cty.NilVal, false
	}
	v, _ = v.UnmarkDeep()
	c, err := convert.Convert(v, ty)
	if err != nil {
		r.fail(name, "want %s: %v", ty.FriendlyName(), err)
		return cty.NilVal, false
	}
	return c, true
}

func (r reader) str(name, def string) string {
	if v, ok := r.value(name, cty.String); ok {
		return v.AsString()
	}
	return def
}

func (r reader) boolean(name string) bool {
	v, ok := r.value(name, cty.Bool)
	return ok && v.True()
}

func (r reader) duration(name string, def time.Duration) time.Duration {
	s := r.str(name, "")
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		r.fail(name, "%q is not a duration (try \"30s\")", s)
		return def
	}
	return d
}

func (r reader) strings(name string, def []string) []string {
	v, ok := r.value(name, cty.List(cty.String))
	if !ok {
		return def
	}
	var out []string
	if err := gocty.FromCtyValue(v, &out); err != nil {
		r.fail(name, "want a list of strings: %v", err)
		return def
	}
	return out
}

// statuses accepts 200 or [200, 204].
func (r reader) statuses(name string, def []int) []int {
	r.read[name] = true
	v, ok := r.m[name]
	if !ok || v.IsNull() {
		return def
	}
	v, _ = v.UnmarkDeep()
	if n, err := convert.Convert(v, cty.Number); err == nil {
		v = cty.ListVal([]cty.Value{n})
	}
	var out []int
	l, err := convert.Convert(v, cty.List(cty.Number))
	if err == nil {
		err = gocty.FromCtyValue(l, &out)
	}
	if err != nil || len(out) == 0 {
		r.fail(name, "want an HTTP status or a list of them, such as [200, 204]")
		return def
	}
	return out
}

func (r reader) secretValue(name string) secret.Value {
	r.read[name] = true
	v, ok := r.m[name]
	if !ok || v.IsNull() {
		return secret.Value{}
	}
	s, ok := secret.FromCty(v)
	if !ok {
		r.fail(name, `must be a secret reference such as env("SC_TOKEN") or file("sc.token"), not a literal`)
	}
	return s
}

func (r reader) headers(name string) map[string]Header {
	r.read[name] = true
	v, ok := r.m[name]
	if !ok || v.IsNull() {
		return nil
	}
	raw, _ := v.Unmark() // keep the marks of the elements
	if !raw.CanIterateElements() || raw.Type().IsListType() || raw.Type().IsTupleType() || raw.Type().IsSetType() {
		r.fail(name, `want a map of header names to values, such as { "X-Api-Key" = env("SC_KEY") }`)
		return nil
	}
	out := map[string]Header{}
	for it := raw.ElementIterator(); it.Next(); {
		k, e := it.Element()
		key := k.AsString()
		if secret.IsMarked(e) {
			s, ok := secret.FromCty(e)
			if !ok {
				r.fail(name, "header %s: a secret must be a string", key)
				continue
			}
			out[key] = Header{Secret: s}
			continue
		}
		s, err := convert.Convert(e, cty.String)
		if err != nil || s.IsNull() {
			r.fail(name, "header %s: want a string", key)
			continue
		}
		out[key] = Header{Plain: s.AsString()}
	}
	return out
}

// object returns a nested reader for an object-valued setting.
func (r reader) object(name string) (reader, bool) {
	r.read[name] = true
	v, ok := r.m[name]
	if !ok || v.IsNull() {
		return reader{}, false
	}
	raw, _ := v.Unmark()
	if !raw.Type().IsObjectType() && !raw.Type().IsMapType() {
		r.fail(name, "want an object such as { method = \"POST\", url = \"{url}/...\" }")
		return reader{}, false
	}
	return reader{what: r.what + name + ".", m: raw.AsValueMap(), read: map[string]bool{}, errs: r.errs}, true
}

// unread reports settings that nothing read: a typo or a setting meant
// for another driver.
func (r reader) unread() {
	for _, k := range slices.Sorted(maps.Keys(r.m)) {
		if !r.read[k] {
			r.fail(k, "unknown setting")
		}
	}
}

// Decode reads the settings of an "http" service_center block.
func Decode(settings map[string]cty.Value) (Config, error) {
	var errs []error
	r := reader{m: settings, read: map[string]bool{}, errs: &errs}
	c := Config{
		URL:            strings.TrimRight(r.str("url", ""), "/"),
		Token:          r.secretValue("token"),
		User:           r.str("user", ""),
		Password:       r.secretValue("password"),
		Headers:        r.headers("headers"),
		Insecure:       r.boolean("insecure"),
		CAFile:         r.str("ca_file", ""),
		RequestTimeout: r.duration("request_timeout", 30*time.Second),
	}
	if c.URL == "" {
		r.fail("url", `is required (the base URL of the API, e.g. "https://sc.example.com/osrun")`)
	} else if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.fail("url", "%q is not an http(s) URL", c.URL)
	} else if u.User != nil {
		// A URL ends up in error messages; credentials belong in secrets.
		r.fail("url", "must not hold credentials; use token, or user and password")
	}
	if !c.Token.IsZero() && c.User != "" {
		r.fail("token", "use either token (bearer) or user and password (basic), not both")
	}
	if (c.User == "") != c.Password.IsZero() {
		r.fail("user", "user and password go together")
	}
	c.GetFrontend = r.request("get_frontend", defaultGetFrontend)
	c.SetDeployment = r.request("set_deployment", defaultSetDeployment)
	c.GetDeployer = r.request("get_deployer", defaultGetDeployer)
	r.unread()
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

func (r reader) request(name string, def Request) Request {
	o, ok := r.object(name)
	if !ok {
		return def
	}
	q := Request{
		Method:       strings.ToUpper(o.str("method", def.Method)),
		URL:          o.str("url", def.URL),
		Body:         o.str("body", def.Body),
		Headers:      o.headers("headers"),
		ExpectStatus: o.statuses("expect_status", def.ExpectStatus),
	}
	switch name {
	case "get_frontend":
		q.StatePath = o.str("state_path", def.StatePath)
		q.EnabledValue = o.str("enabled_value", def.EnabledValue)
		q.DisabledValue = o.str("disabled_value", def.DisabledValue)
	case "get_deployer":
		q.ThreadsPath = o.str("threads_path", def.ThreadsPath)
		q.StatusField = o.str("status_field", def.StatusField)
		q.IDField = o.str("id_field", def.IDField)
		q.ServicePath = o.str("service_path", def.ServicePath)
		q.RunningValue = o.str("running_value", def.RunningValue)
		q.SleepingValues = o.strings("sleeping_values", def.SleepingValues)
	}
	for field, tmpl := range map[string]string{"url": q.URL, "body": q.Body} {
		for _, m := range placeholderRE.FindAllStringSubmatch(tmpl, -1) {
			if !slices.Contains(placeholders, m[1]) {
				o.fail(field, "unknown placeholder {%s}; known: {url} {name} {enabled} {deployment} {action}", m[1])
			}
		}
	}
	o.unread()
	return q
}

// Manual is the decoded settings of a service_center block with driver
// "manual": only where Service Center is, for the instructions.
type Manual struct {
	URL string
}

// DecodeManual reads the settings of a "manual" service_center block.
func DecodeManual(settings map[string]cty.Value) (Manual, error) {
	var errs []error
	r := reader{m: settings, read: map[string]bool{}, errs: &errs}
	m := Manual{URL: r.str("url", "")}
	r.unread()
	if len(errs) > 0 {
		return Manual{}, errors.Join(errs...)
	}
	return m, nil
}

// Instructions opens a manual step: where Service Center is.
func (m Manual) Instructions() string {
	if m.URL == "" {
		return "Open Service Center and log in as a user with Full Control."
	}
	return "Open Service Center (" + m.URL + ") and log in as a user with Full Control."
}
