package httpcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules"
)

// Options configure the module for the whole run. There are none yet; the
// type keeps Definition's signature the same as other modules'.
type Options struct{}

// Definition returns the http_check module.
func Definition(Options) *modules.Definition {
	return &modules.Definition{
		Name:    "http_check",
		Summary: "Test an application on a front-end directly, bypassing the load balancer",
		Doc: `Sends a request to the host's own address (host.address; the balancer is not involved)
and checks the status and, optionally, the body. host_header sets the Host header and
the TLS server name, so a site answers on the front-end's IP as it does behind the
balancer. Redirects are not followed (expect_status = 302 checks one), proxies from
the environment are not used, and every attempt opens a new connection.

Give either url (the whole address, e.g. "https://${host.address}:8443/app/") or
the parts: scheme (default http), port (default the one in host.address, else the
scheme's), path (default /). On failure the error shows what was sent and what came
back: the status and the start of the body. To wait for an application that is still
starting, use the task's retries and delay (or until = self.output.status == 200).

The request changes nothing, so check mode sends it too and the task never reports
a change. In check mode a body that does not match body_regex yet is reported, not
failed: it usually names what earlier tasks (an upgrade) would have changed. A host
that does not answer, or answers another status, fails in check mode too. Runs on
the control machine.`,
		DefaultOn: modules.OnControl,
		Params: []modules.Param{
			{Name: "url", Type: cty.String, Doc: "The whole URL to request; excludes scheme, port and path."},
			{Name: "scheme", Type: cty.String, OneOf: []string{"http", "https"}, Doc: "http (default) or https."},
			{Name: "port", Type: cty.Number, Doc: "The port; by default the one in host.address, else 80 or 443."},
			{Name: "path", Type: cty.String, Doc: "The path and query, e.g. \"/MyApp/Health?full=1\"; default \"/\"."},
			{Name: "method", Type: cty.String, Default: cty.StringVal("GET"), OneOf: []string{"GET", "HEAD"}, Doc: "GET or HEAD."},
			{Name: "host_header", Type: cty.String, Doc: "The Host header and TLS server name, e.g. the application's public name."},
			{Name: "expect_status", Type: cty.Number, Default: cty.NumberIntVal(200), Doc: "The HTTP status that counts as success."},
			{Name: "body_regex", Type: cty.String, Doc: "A regular expression (Go syntax) the body must match."},
			{Name: "insecure", Type: cty.Bool, Default: cty.False, Doc: "Skip TLS certificate verification."},
			{Name: "ca_file", Type: cty.String, Doc: "A PEM file of CA certificates to trust instead of the system's."},
			// Not "timeout": that meta-argument bounds the whole task attempt.
			{Name: "request_timeout", Type: cty.String, Default: cty.StringVal("10s"), Doc: "How long the request may take, connection and TLS included."},
		},
		Example: `wave "test_updating" {
  hosts = group.updating

  task "http_check" "my_app" {
    scheme      = "https"
    path        = "/MyApp/"
    host_header = "apps.example.com"
    body_regex  = "Welcome"
    retries     = 5
    delay       = "10s"
  }
}`,
		New: newAction,
	}
}

type action struct {
	url, scheme, path  string
	port               int
	method, hostHeader string
	expect             int
	bodyRE             *regexp.Regexp
	insecure           bool
	caFile             string
	timeout            time.Duration
}

func newAction(args modules.Args) (modules.Action, error) {
	a := &action{
		url: args.String("url"), scheme: args.String("scheme"), path: args.String("path"), port: args.Int("port"),
		method: args.String("method"), hostHeader: args.String("host_header"), expect: args.Int("expect_status"),
		insecure: args.Bool("insecure"), caFile: args.String("ca_file"),
	}
	if a.url != "" && (a.scheme != "" || a.path != "" || args.Has("port")) {
		return nil, errors.New("argument url: give either url or scheme/port/path, not both")
	}
	if a.url != "" {
		u, err := url.Parse(a.url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("argument url: %q is not an http(s) URL", a.url)
		}
	}
	if a.scheme == "" {
		a.scheme = "http"
	}
	if a.path == "" {
		a.path = "/"
	}
	if !strings.HasPrefix(a.path, "/") {
		a.path = "/" + a.path
	}
	if args.Has("port") && (a.port < 1 || a.port > 65535) {
		return nil, fmt.Errorf("argument port: %d is not a port", a.port)
	}
	if a.expect < 100 || a.expect > 599 {
		return nil, fmt.Errorf("argument expect_status: %d is not an HTTP status", a.expect)
	}
	if re := args.String("body_regex"); re != "" {
		var err error
		if a.bodyRE, err = regexp.Compile(re); err != nil {
			return nil, fmt.Errorf("argument body_regex: %w", err)
		}
	}
	var err error
	if a.timeout, err = args.Duration("request_timeout"); err != nil {
		return nil, err
	}
	if a.timeout <= 0 {
		return nil, errors.New("argument request_timeout: must be positive")
	}
	return a, nil
}

// target builds the URL from the host's address.
func (a *action) target(env *modules.Env) (string, error) {
	if a.url != "" {
		return a.url, nil
	}
	addr := env.Host.Address
	if addr == "" {
		addr = env.Host.Name
	}
	host, port := addr, ""
	if h, p, err := net.SplitHostPort(addr); err == nil {
		host, port = h, p
	}
	if a.port != 0 {
		port = strconv.Itoa(a.port)
	}
	hostport := host
	if port != "" {
		hostport = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		hostport = "[" + host + "]" // a bare IPv6 address
	}
	u := a.scheme + "://" + hostport + a.path
	if _, err := url.Parse(u); err != nil {
		return "", fmt.Errorf("build URL from address %q: %w", addr, err)
	}
	return u, nil
}

func (a *action) client() (*http.Client, error) {
	tlsConf := &tls.Config{InsecureSkipVerify: a.insecure} //nolint:gosec // asked for by the task
	if a.hostHeader != "" {
		name := a.hostHeader
		if h, _, err := net.SplitHostPort(name); err == nil {
			name = h
		}
		tlsConf.ServerName = name
	}
	if a.caFile != "" {
		pem, err := os.ReadFile(a.caFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate in it", a.caFile)
		}
		tlsConf.RootCAs = pool
	}
	// No proxy (the point is to reach this host, not whatever HTTP_PROXY
	// says), no pooled connections (each attempt proves a new one works).
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: a.timeout}).DialContext,
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: a.timeout,
		DisableKeepAlives:   true,
	}
	return &http.Client{
		Transport: tr,
		// A redirect would usually lead to the balancer's name: report it
		// rather than follow it away from this host.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// Check sends the request too: it is read-only. A body that does not match
// yet is not a failure in a rehearsal: the body usually names what earlier
// tasks (an upgrade) would have changed, and a rehearsal changed nothing.
// A host that does not answer, or answers the wrong status, still fails.
func (a *action) Check(ctx context.Context, env *modules.Env) (modules.Result, error) {
	res, err := a.run(ctx, env, true)
	var mismatch *bodyMismatchError
	if errors.As(err, &mismatch) {
		res.Msg = fmt.Sprintf("%s; would check again after the earlier tasks: %v", res.Msg, mismatch)
		return res, nil
	}
	return res, err
}

// Apply sends the request.
func (a *action) Apply(ctx context.Context, env *modules.Env) (modules.Result, error) {
	return a.run(ctx, env, false)
}

// bodyMismatchError is an answer with the right status whose body does not
// match body_regex.
type bodyMismatchError struct {
	re      *regexp.Regexp
	status  int
	excerpt string
}

func (e *bodyMismatchError) Error() string {
	return fmt.Sprintf("got %d, but the body does not match %q%s", e.status, e.re, e.excerpt)
}

func (a *action) run(ctx context.Context, env *modules.Env, check bool) (modules.Result, error) {
	target, err := a.target(env)
	if err != nil {
		return modules.Result{}, err
	}
	client, err := a.client()
	if err != nil {
		return modules.Result{}, err
	}
	defer client.CloseIdleConnections()
	what := a.method + " " + target
	if a.hostHeader != "" {
		what += " (Host: " + a.hostHeader + ")"
	}
	status, err := a.attempt(ctx, client, target)
	out := map[string]cty.Value{"status": cty.NumberIntVal(int64(status))}
	var mismatch *bodyMismatchError
	if check && errors.As(err, &mismatch) {
		return modules.Result{Msg: fmt.Sprintf("%s: %d %s", what, status, http.StatusText(status)), Output: out}, err
	}
	if err != nil {
		return modules.Result{Output: out}, fmt.Errorf("%s: %w", what, err)
	}
	return modules.Result{Msg: fmt.Sprintf("%s: %d %s", what, status, http.StatusText(status)), Output: out}, nil
}

// attempt sends one request and says what was wrong with the answer.
func (a *action) attempt(ctx context.Context, client *http.Client, target string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, a.method, target, nil)
	if err != nil {
		return 0, err
	}
	if a.hostHeader != "" {
		req.Host = a.hostHeader
	}
	req.Header.Set("User-Agent", "osrun-http_check")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			if ue.Timeout() {
				return 0, fmt.Errorf("no answer within %s", a.timeout)
			}
			err = ue.Err // the URL is already in the message
		}
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("got %s, then reading the body failed: %w", resp.Status, err)
	}
	if resp.StatusCode != a.expect {
		msg := fmt.Sprintf("got %d %s, want %d", resp.StatusCode, http.StatusText(resp.StatusCode), a.expect)
		if loc := resp.Header.Get("Location"); loc != "" {
			msg += " (Location: " + loc + ")"
		}
		return resp.StatusCode, errors.New(msg + bodyExcerpt(body))
	}
	if a.bodyRE != nil && !a.bodyRE.Match(body) {
		return resp.StatusCode, &bodyMismatchError{re: a.bodyRE, status: resp.StatusCode, excerpt: bodyExcerpt(body)}
	}
	return resp.StatusCode, nil
}

func bodyExcerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return "; empty body"
	}
	s = secret.Clip(s, 300)
	return "; body: " + s
}
