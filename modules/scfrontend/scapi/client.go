package scapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
)

// Resolve returns the service_center endpoint for host: the one named by
// override when set, else the one of the host's zone, else the only one in
// the inventory.
func Resolve(inv *inventory.Inventory, host *inventory.Host, override string) (*inventory.Endpoint, error) {
	if inv == nil {
		return nil, errors.New("no inventory")
	}
	name := override
	if name == "" {
		for _, z := range inv.Zones {
			if z.Name == host.Zone {
				name = z.ServiceCenter
			}
		}
	}
	if name == "" && len(inv.ServiceCenters) == 1 {
		for n := range inv.ServiceCenters {
			name = n
		}
	}
	if name == "" {
		return nil, fmt.Errorf("zone %s names no service_center (set service_center in the zone or on the task)", host.Zone)
	}
	ep, ok := inv.ServiceCenters[name]
	if !ok {
		return nil, fmt.Errorf("no service_center %q in the inventory", name)
	}
	return ep, nil
}

// Options adjust how a Client connects.
type Options struct {
	// Transport replaces the one built from the settings (TLS options
	// included); tests use it to talk to a simulator in process.
	Transport http.RoundTripper
}

// Client calls one Service Center endpoint.
type Client struct {
	name string // endpoint name, for messages
	cfg  Config
	http *http.Client
}

// New builds a client for an endpoint whose driver is "http".
func New(ep *inventory.Endpoint, opts Options) (*Client, error) {
	cfg, err := Decode(ep.Settings)
	if err != nil {
		return nil, fmt.Errorf("service_center %s: %w", ep.Name, err)
	}
	rt := opts.Transport
	if rt == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: cfg.Insecure} //nolint:gosec // asked for in the inventory
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("service_center %s: ca_file: %w", ep.Name, err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("service_center %s: ca_file %s: no PEM certificate in it", ep.Name, cfg.CAFile)
			}
			tr.TLSClientConfig.RootCAs = pool
		}
		rt = tr
	}
	return &Client{name: ep.Name, cfg: cfg, http: &http.Client{Transport: rt}}, nil
}

// Close releases the client's idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// StatusError is an answer with a status the request did not expect.
type StatusError struct {
	Method, URL string
	Status      int
	Body        string // the start of the answer, for the operator
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s %s: unexpected status %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Deployment reports whether deployment to front-end name is enabled.
func (c *Client) Deployment(ctx context.Context, name string) (enabled bool, err error) {
	q := c.cfg.GetFrontend
	doc, err := c.do(ctx, q, vars{name: name})
	if err != nil {
		return false, err
	}
	v, err := lookup(doc, q.StatePath)
	if err != nil {
		return false, c.errorf("read deployment state of %s: %w", name, err)
	}
	switch v {
	case q.EnabledValue:
		return true, nil
	case q.DisabledValue:
		return false, nil
	}
	return false, c.errorf("read deployment state of %s: %s is %q, want %q or %q", name, pathName(q.StatePath), v, q.EnabledValue, q.DisabledValue)
}

// SetDeployment enables or disables deployment to front-end name.
func (c *Client) SetDeployment(ctx context.Context, name string, enabled bool) error {
	// The answer's body is not needed: the caller reads the state back.
	_, err := c.do(ctx, c.cfg.SetDeployment, vars{name: name, enabled: enabled, set: true, noBody: true})
	return err
}

// Thread is one Deployment Service thread.
type Thread struct {
	ID     string
	Status string
	Asleep bool // Status is one of sleeping_values
}

// Deployer is what Service Center shows of a front-end's Deployment Service.
type Deployer struct {
	Running bool
	Threads []Thread
	Asleep  int // threads whose status is one of sleeping_values
}

// Done reports whether the service runs and all its threads sleep.
func (d Deployer) Done() bool { return d.Running && len(d.Threads) > 0 && d.Asleep == len(d.Threads) }

// String summarises the threads, e.g. "7/8 threads sleeping (3: Working)".
func (d Deployer) String() string {
	if !d.Running {
		return "Deployment Service not running"
	}
	s := fmt.Sprintf("%d/%d threads sleeping", d.Asleep, len(d.Threads))
	var busy []string
	for _, t := range d.Threads {
		if !t.Asleep {
			busy = append(busy, t.ID+": "+t.Status)
		}
	}
	if len(busy) > 0 {
		s += " (" + strings.Join(busy, ", ") + ")"
	}
	return s
}

// Deployer reads the Deployment Service threads of front-end name.
func (c *Client) Deployer(ctx context.Context, name string) (Deployer, error) {
	q := c.cfg.GetDeployer
	doc, err := c.do(ctx, q, vars{name: name})
	if err != nil {
		return Deployer{}, err
	}
	raw, err := walk(doc, q.ThreadsPath)
	if err != nil {
		return Deployer{}, c.errorf("read threads of %s: %w", name, err)
	}
	list, ok := raw.([]any)
	if !ok && raw != nil {
		return Deployer{}, c.errorf("read threads of %s: %s is not a list", name, pathName(q.ThreadsPath))
	}
	d := Deployer{Running: true}
	if q.ServicePath != "" {
		if s, err := lookup(doc, q.ServicePath); err == nil {
			d.Running = strings.EqualFold(s, q.RunningValue)
		}
	}
	for i, e := range list {
		status, err := lookup(e, q.StatusField)
		if err != nil {
			return Deployer{}, c.errorf("read threads of %s: thread %d: %w", name, i+1, err)
		}
		id, err := lookup(e, q.IDField)
		if err != nil || id == "" {
			id = strconv.Itoa(i + 1)
		}
		t := Thread{ID: id, Status: status}
		t.Asleep = slices.ContainsFunc(q.SleepingValues, func(v string) bool { return strings.EqualFold(v, status) })
		if t.Asleep {
			d.Asleep++
		}
		d.Threads = append(d.Threads, t)
	}
	return d, nil
}

func (c *Client) errorf(format string, args ...any) error {
	return fmt.Errorf("service_center %s: "+format, append([]any{c.name}, args...)...)
}

// vars fill a request's templates.
type vars struct {
	name    string
	enabled bool
	set     bool // enabled is meaningful
	noBody  bool // the answer's body is not read as JSON
}

func (v vars) replacer(inURL bool, base string) *strings.Replacer {
	name := v.name
	if inURL {
		name = url.PathEscape(name)
	} else {
		b, _ := json.Marshal(name)
		name = string(b[1 : len(b)-1])
	}
	deployment, action := "disabled", "disable"
	if v.enabled {
		deployment, action = "enabled", "enable"
	}
	pairs := []string{"{url}", base, "{name}", name}
	if v.set {
		pairs = append(pairs, "{enabled}", strconv.FormatBool(v.enabled), "{deployment}", deployment, "{action}", action)
	}
	return strings.NewReplacer(pairs...)
}

// do sends q and decodes a JSON answer (nil for an empty one).
func (c *Client) do(ctx context.Context, q Request, v vars) (any, error) {
	target := v.replacer(true, c.cfg.URL).Replace(q.URL)
	var body io.Reader
	if q.Body != "" {
		body = strings.NewReader(v.replacer(false, c.cfg.URL).Replace(q.Body))
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, q.Method, target, body)
	if err != nil {
		return nil, c.errorf("%s %s: %w", q.Method, target, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch {
	case !c.cfg.Token.IsZero():
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token.Reveal())
	case c.cfg.User != "":
		req.SetBasicAuth(c.cfg.User, c.cfg.Password.Reveal())
	}
	for k, h := range c.cfg.Headers {
		req.Header.Set(k, h.reveal())
	}
	for k, h := range q.Headers {
		req.Header.Set(k, h.reveal())
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The url.Error names the URL already; it holds no credentials,
		// since templates cannot reference secrets.
		return nil, c.errorf("%w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, c.errorf("%s %s: read answer: %w", q.Method, target, err)
	}
	if !slices.Contains(q.ExpectStatus, resp.StatusCode) {
		return nil, c.errorf("%w", &StatusError{Method: q.Method, URL: target, Status: resp.StatusCode, Body: excerpt(raw)})
	}
	if v.noBody || len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, c.errorf("%s %s: answer is not JSON (%v): %s", q.Method, target, err, excerpt(raw))
	}
	return doc, nil
}

func excerpt(b []byte) string {
	s := secret.Clip(strings.Join(strings.Fields(string(b)), " "), 200)
	return s
}
