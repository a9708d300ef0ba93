package nginxplus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules/lbmember/member"
	"github.com/osrun/osrun/modules/lbmember/restclient"
	"github.com/osrun/osrun/modules/lbmember/setting"
)

// APIVersion is the NGINX Plus API version the driver speaks.
const APIVersion = 9

// Config locates the API and the upstream.
type Config struct {
	// URL is the location where "api" is configured, e.g.
	// https://nginx.example:8080/api.
	URL      string
	Upstream string
	// User and Password are sent as Basic auth when User is set.
	User     string
	Password secret.Value
	// Client makes the requests; nil means a client with a 30s timeout.
	Client *http.Client
}

// Driver talks to one NGINX Plus HTTP upstream.
type Driver struct {
	cfg  Config
	base string
}

// New returns a driver for cfg.
func New(cfg Config) *Driver {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	base := strings.TrimRight(cfg.URL, "/") + fmt.Sprintf("/%d/http/upstreams/%s", APIVersion, url.PathEscape(cfg.Upstream))
	return &Driver{cfg: cfg, base: base}
}

// FromEndpoint decodes a load_balancer block: url, upstream, optional
// user and password (a secret reference), ca_file, insecure, timeout.
func FromEndpoint(ep *inventory.Endpoint) (*Driver, error) {
	r := setting.New(fmt.Sprintf("load balancer %s (nginx_plus)", ep.Name), ep.Settings)
	cfg := Config{URL: r.URL("url", "an http(s) URL such as https://nginx.example:8080/api"), Upstream: r.Required("upstream"), User: r.String("user", ""), Password: r.Secret("password")}
	if cfg.User == "" && !cfg.Password.IsZero() {
		r.Fail("user", "is required with password")
	}
	cfg.Client = r.HTTPClient()
	if err := r.Err(); err != nil {
		return nil, err
	}
	return New(cfg), nil
}

// Pool implements lbmember.Driver.
func (d *Driver) Pool() string {
	return fmt.Sprintf("nginx plus upstream %s at %s", d.cfg.Upstream, d.cfg.URL)
}

// apiError is the NGINX Plus error envelope.
type apiError struct {
	Err struct {
		Status int    `json:"status"`
		Text   string `json:"text"`
		Code   string `json:"code"`
	} `json:"error"`
	RequestID string `json:"request_id"`
}

// ErrUpstreamNotFound is wrapped when NGINX does not know the upstream.
var ErrUpstreamNotFound = errors.New("no such upstream")

func (d *Driver) do(ctx context.Context, method, path string, body, out any) error {
	req, err := restclient.NewRequest(ctx, method, d.base+path, body)
	if err != nil {
		return err
	}
	if d.cfg.User != "" {
		req.SetBasicAuth(d.cfg.User, d.cfg.Password.Reveal())
	}
	what := method + " " + req.URL.Path
	status, raw, err := restclient.Send(d.cfg.Client, req)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("%s: %w", what, statusError(status, raw))
	}
	if err := restclient.Decode(raw, out); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func statusError(status int, raw []byte) error {
	var e apiError
	if json.Unmarshal(raw, &e) == nil && e.Err.Code != "" {
		err := fmt.Errorf("%d %s: %s", status, e.Err.Code, e.Err.Text)
		switch {
		case e.Err.Code == "UpstreamNotFound":
			return fmt.Errorf("%w: %w", ErrUpstreamNotFound, err)
		case e.Err.Code == "MethodDisabled":
			return fmt.Errorf("%w (the api location needs \"api write=on;\")", err)
		}
		return err
	}
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		// nginx's auth_basic and allow/deny answer with an HTML page.
		return fmt.Errorf("%d %s: check user and password, and the allow rules of the api location", status, http.StatusText(status))
	}
	return fmt.Errorf("%d %s: %s", status, http.StatusText(status), clip(raw))
}

func clip(b []byte) string {
	s := secret.Clip(strings.TrimSpace(string(b)), 200)
	return s
}

// server is one entry of GET …/servers (the configuration).
type server struct {
	ID     int    `json:"id"`
	Server string `json:"server"`
	Down   bool   `json:"down"`
	Drain  bool   `json:"drain"`
}

// peer is one entry of GET …/upstreams/U "peers" (the live state).
type peer struct {
	ID     int    `json:"id"`
	Server string `json:"server"`
	Name   string `json:"name"`
	State  string `json:"state"`
	Active int    `json:"active"`
}

func (d *Driver) read(ctx context.Context) ([]server, map[int]peer, error) {
	var servers []server
	if err := d.do(ctx, http.MethodGet, "/servers", nil, &servers); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", d.Pool(), err)
	}
	var up struct {
		Peers []peer `json:"peers"`
	}
	if err := d.do(ctx, http.MethodGet, "", nil, &up); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", d.Pool(), err)
	}
	peers := map[int]peer{}
	for _, p := range up.Peers {
		peers[p.ID] = p
	}
	return servers, peers, nil
}

func status(s server, p peer) member.Status {
	st := member.Status{Name: s.Server, State: member.Enabled, Sessions: p.Active, Detail: p.State,
		// "draining" peers still pass their checks; unavail, unhealthy and
		// checking ones do not take traffic.
		Healthy: p.State == "up" || p.State == "draining"}
	switch {
	case s.Down:
		st.State, st.Healthy = member.Disabled, false
	case s.Drain:
		st.State = member.Drained
	}
	return st
}

// Members implements lbmember.Driver.
func (d *Driver) Members(ctx context.Context) ([]member.Status, error) {
	servers, peers, err := d.read(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]member.Status, 0, len(servers))
	for _, s := range servers {
		out = append(out, status(s, peers[s.ID]))
	}
	return out, nil
}

func (d *Driver) find(ctx context.Context, name string) (member.Status, server, error) {
	servers, peers, err := d.read(ctx)
	if err != nil {
		return member.Status{}, server{}, err
	}
	for _, s := range servers {
		if s.Server == name {
			return status(s, peers[s.ID]), s, nil
		}
	}
	return member.Status{}, server{}, fmt.Errorf("%s: server %s: %w", d.Pool(), name, member.ErrNotFound)
}

// Status implements lbmember.Driver.
func (d *Driver) Status(ctx context.Context, name string) (member.Status, error) {
	st, _, err := d.find(ctx, name)
	return st, err
}

func (d *Driver) patch(ctx context.Context, s server, body map[string]bool) error {
	// Never send "id" in the body: NGINX answers 400 UpstreamConfFormatError.
	if err := d.do(ctx, http.MethodPatch, fmt.Sprintf("/servers/%d", s.ID), body, nil); err != nil {
		return fmt.Errorf("%s: set %s: %w", d.Pool(), s.Server, err)
	}
	return nil
}

// SetState implements lbmember.Driver.
func (d *Driver) SetState(ctx context.Context, name string, st member.State) error {
	if _, err := member.Parse(string(st)); err != nil {
		return fmt.Errorf("%s: set %s: %w", d.Pool(), name, err)
	}
	_, s, err := d.find(ctx, name)
	if err != nil {
		return err
	}
	switch st {
	case member.Drained:
		return d.patch(ctx, s, map[string]bool{"drain": true, "down": false})
	case member.Disabled:
		return d.patch(ctx, s, map[string]bool{"down": true})
	}
	if s.Down {
		if err := d.patch(ctx, s, map[string]bool{"down": false}); err != nil {
			return err
		}
	}
	if s.Drain {
		return d.patch(ctx, s, map[string]bool{"drain": false})
	}
	return nil
}
