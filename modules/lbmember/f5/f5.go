package f5

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules/lbmember/member"
	"github.com/osrun/osrun/modules/lbmember/restclient"
	"github.com/osrun/osrun/modules/lbmember/setting"
)

// Config locates the BIG-IP and the pool.
type Config struct {
	// URL is the management address, e.g. https://f5.example.
	URL string
	// Pool is the pool name, relative to Partition or a full path.
	Pool      string
	Partition string
	User      string
	Password  secret.Value
	// Basic sends Basic auth on every request instead of logging in for a token.
	Basic bool
	// Client makes the requests; nil means http.DefaultClient.
	Client *http.Client
}

// Driver talks to one BIG-IP pool.
type Driver struct {
	cfg Config

	mu    sync.Mutex
	token string
}

// New returns a driver for cfg.
func New(cfg Config) *Driver {
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	if cfg.Partition == "" {
		cfg.Partition = "Common"
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	return &Driver{cfg: cfg}
}

// FromEndpoint decodes a load_balancer block: url, pool, user, password
// (a secret reference), optional partition, auth ("token" or "basic"),
// ca_file, insecure, timeout.
func FromEndpoint(ep *inventory.Endpoint) (*Driver, error) {
	r := setting.New(fmt.Sprintf("load balancer %s (f5)", ep.Name), ep.Settings)
	cfg := Config{
		URL:       r.URL("url", "an https URL such as https://f5.example"),
		Pool:      r.Required("pool"),
		Partition: r.String("partition", "Common"),
		User:      r.Required("user"),
		Password:  r.Secret("password"),
		Client:    r.HTTPClient(),
	}
	if cfg.Password.IsZero() {
		r.Fail("password", "is required (a secret reference such as env(\"F5_PASSWORD\"))")
	}
	switch auth := r.String("auth", "token"); auth {
	case "token":
	case "basic":
		cfg.Basic = true
	default:
		r.Fail("auth", "%q is not token or basic", auth)
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return New(cfg), nil
}

func (d *Driver) fullPath(name string) string {
	if strings.HasPrefix(name, "/") {
		return name
	}
	return "/" + d.cfg.Partition + "/" + name
}

// tilde writes a full path the way iControl REST wants it in a URL.
func tilde(path string) string { return strings.ReplaceAll(path, "/", "~") }

func (d *Driver) poolURL() string { return "/mgmt/tm/ltm/pool/" + tilde(d.fullPath(d.cfg.Pool)) }

// Pool implements lbmember.Driver.
func (d *Driver) Pool() string {
	return fmt.Sprintf("f5 pool %s at %s", d.fullPath(d.cfg.Pool), d.cfg.URL)
}

// apiError is iControl REST's error body.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// ErrPoolNotFound is wrapped when the BIG-IP does not know the pool.
var ErrPoolNotFound = errors.New("no such pool")

// errUnauthorized marks a 401 so a stale token can be replaced.
var errUnauthorized = errors.New("401 unauthorized")

func statusError(status int, raw []byte) error {
	var e apiError
	msg := strings.TrimSpace(string(raw))
	if json.Unmarshal(raw, &e) == nil && e.Message != "" {
		msg = e.Message
	}
	msg = secret.Clip(msg, 300)
	switch {
	case status == http.StatusUnauthorized:
		return fmt.Errorf("%w: %s", errUnauthorized, msg)
	case status == http.StatusNotFound && strings.Contains(msg, "The requested Pool ("):
		return fmt.Errorf("%w: %s", ErrPoolNotFound, msg)
	}
	return fmt.Errorf("%d %s: %s", status, http.StatusText(status), msg)
}

func (d *Driver) send(ctx context.Context, method, path string, body any, auth func(*http.Request)) ([]byte, error) {
	req, err := restclient.NewRequest(ctx, method, d.cfg.URL+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	auth(req)
	status, raw, err := restclient.Send(d.cfg.Client, req)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, statusError(status, raw)
	}
	return raw, nil
}

// login gets a token; the caller holds d.mu.
func (d *Driver) login(ctx context.Context) error {
	body := map[string]string{"username": d.cfg.User, "password": d.cfg.Password.Reveal(), "loginProviderName": "tmos"}
	raw, err := d.send(ctx, http.MethodPost, "/mgmt/shared/authn/login", body, func(*http.Request) {})
	if err != nil {
		return fmt.Errorf("log in as %s: %w", d.cfg.User, err)
	}
	var out struct {
		Token struct {
			Token string `json:"token"`
		} `json:"token"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Token.Token == "" {
		return fmt.Errorf("log in as %s: the answer has no token", d.cfg.User)
	}
	d.token = out.Token.Token
	return nil
}

// do sends one request, logging in first (or again, once, after a 401).
func (d *Driver) do(ctx context.Context, method, path string, body, out any) error {
	what := method + " " + path
	var raw []byte
	var err error
	if d.cfg.Basic {
		raw, err = d.send(ctx, method, path, body, func(r *http.Request) { r.SetBasicAuth(d.cfg.User, d.cfg.Password.Reveal()) })
	} else {
		for attempt := 0; attempt < 2; attempt++ {
			d.mu.Lock()
			if d.token == "" {
				if err := d.login(ctx); err != nil {
					d.mu.Unlock()
					return fmt.Errorf("%s: %w", d.Pool(), err)
				}
			}
			token := d.token
			d.mu.Unlock()
			raw, err = d.send(ctx, method, path, body, func(r *http.Request) { r.Header.Set("X-F5-Auth-Token", token) })
			if !errors.Is(err, errUnauthorized) {
				break
			}
			d.mu.Lock()
			if d.token == token {
				d.token = "" // expired: log in again
			}
			d.mu.Unlock()
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %s: %w", d.Pool(), what, err)
	}
	if err := restclient.Decode(raw, out); err != nil {
		return fmt.Errorf("%s: %s: %w", d.Pool(), what, err)
	}
	return nil
}

type poolMember struct {
	Name     string `json:"name"`
	FullPath string `json:"fullPath"`
	State    string `json:"state"`
	Session  string `json:"session"`
}

func (d *Driver) list(ctx context.Context) ([]poolMember, error) {
	var out struct {
		Items []poolMember `json:"items"`
	}
	if err := d.do(ctx, http.MethodGet, d.poolURL()+"/members", nil, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

func (d *Driver) memberURL(m poolMember) string { return d.poolURL() + "/members/" + tilde(m.FullPath) }

// curConns reads serverside.curConns from the member's stats.
func (d *Driver) curConns(ctx context.Context, m poolMember) (int, error) {
	var out struct {
		Entries map[string]struct {
			NestedStats struct {
				Entries map[string]struct {
					Value       *int   `json:"value"`
					Description string `json:"description"`
				} `json:"entries"`
			} `json:"nestedStats"`
		} `json:"entries"`
	}
	if err := d.do(ctx, http.MethodGet, d.memberURL(m)+"/stats", nil, &out); err != nil {
		return 0, err
	}
	// One entry keyed by a self link whose form varies by TMOS version.
	for _, e := range out.Entries {
		if c, ok := e.NestedStats.Entries["serverside.curConns"]; ok && c.Value != nil {
			return *c.Value, nil
		}
	}
	return 0, fmt.Errorf("%s: stats of %s have no serverside.curConns", d.Pool(), m.Name)
}

func (d *Driver) status(ctx context.Context, m poolMember) (member.Status, error) {
	st := member.Status{Name: m.Name, State: member.Enabled, Detail: m.State + "/" + m.Session,
		// "unchecked" is a member without a monitor.
		Healthy: m.State == "up" || m.State == "unchecked"}
	switch {
	case m.State == "user-down":
		st.State = member.Disabled
	case m.Session == "user-disabled":
		st.State = member.Drained
	}
	n, err := d.curConns(ctx, m)
	st.Sessions = n
	return st, err
}

func (d *Driver) find(ctx context.Context, name string) (poolMember, error) {
	all, err := d.list(ctx)
	if err != nil {
		return poolMember{}, err
	}
	for _, m := range all {
		if m.Name == name || m.FullPath == d.fullPath(name) {
			return m, nil
		}
	}
	return poolMember{}, fmt.Errorf("%s: member %s: %w", d.Pool(), name, member.ErrNotFound)
}

// Members implements lbmember.Driver.
func (d *Driver) Members(ctx context.Context) ([]member.Status, error) {
	all, err := d.list(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]member.Status, 0, len(all))
	for _, m := range all {
		st, err := d.status(ctx, m)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// Status implements lbmember.Driver.
func (d *Driver) Status(ctx context.Context, name string) (member.Status, error) {
	m, err := d.find(ctx, name)
	if err != nil {
		return member.Status{}, err
	}
	return d.status(ctx, m)
}

// SetState implements lbmember.Driver.
func (d *Driver) SetState(ctx context.Context, name string, st member.State) error {
	var body map[string]string
	switch st {
	case member.Enabled:
		body = map[string]string{"state": "user-up", "session": "user-enabled"}
	case member.Drained:
		// "user-up" too, in case the member was forced offline.
		body = map[string]string{"state": "user-up", "session": "user-disabled"}
	case member.Disabled:
		body = map[string]string{"state": "user-down", "session": "user-disabled"}
	default:
		return fmt.Errorf("%s: set %s: unknown state %q", d.Pool(), name, st)
	}
	m, err := d.find(ctx, name)
	if err != nil {
		return err
	}
	return d.do(ctx, http.MethodPatch, d.memberURL(m), body, nil)
}
