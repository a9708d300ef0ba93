package dataplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules/lbmember/member"
	"github.com/osrun/osrun/modules/lbmember/restclient"
	"github.com/osrun/osrun/modules/lbmember/setting"
)

// Config locates the API and the backend.
type Config struct {
	// URL is the API base including its version, e.g. http://lb:5555/v2.
	URL      string
	Backend  string
	User     string
	Password secret.Value
	// Client makes the requests; nil means http.DefaultClient.
	Client *http.Client
}

// Driver talks to one backend through the Data Plane API.
type Driver struct {
	cfg Config
	v3  bool
}

// New returns a driver for cfg.
func New(cfg Config) *Driver {
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	return &Driver{cfg: cfg, v3: strings.HasSuffix(cfg.URL, "/v3")}
}

// FromEndpoint decodes a load_balancer block: url, backend, user, password
// (a secret reference), and optionally ca_file, insecure, timeout.
func FromEndpoint(ep *inventory.Endpoint) (*Driver, error) {
	r := setting.New(fmt.Sprintf("load balancer %s (haproxy_dataplane)", ep.Name), ep.Settings)
	cfg := Config{URL: r.Required("url"), Backend: r.Required("backend"), User: r.Required("user"),
		Password: r.Secret("password"), Client: r.HTTPClient()}
	if cfg.Password.IsZero() {
		r.Fail("password", "is required (a secret reference such as env(\"DATAPLANE_PASSWORD\"))")
	}
	if u, err := url.Parse(cfg.URL); cfg.URL != "" && (err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" ||
		!(strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/v2") || strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/v3"))) {
		r.Fail("url", "%q is not the API's base URL with its version, such as http://lb:5555/v2 or /v3", cfg.URL)
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return New(cfg), nil
}

// Pool implements lbmember.Driver.
func (d *Driver) Pool() string {
	return fmt.Sprintf("haproxy backend %s via data plane API %s", d.cfg.Backend, d.cfg.URL)
}

func (d *Driver) serversPath(server string) string {
	b := url.PathEscape(d.cfg.Backend)
	if d.v3 {
		p := "/services/haproxy/runtime/backends/" + b + "/servers"
		if server != "" {
			p += "/" + url.PathEscape(server)
		}
		return p
	}
	p := "/services/haproxy/runtime/servers"
	if server != "" {
		p += "/" + url.PathEscape(server)
	}
	return p + "?backend=" + url.QueryEscape(d.cfg.Backend)
}

// errNotFound marks a 404 from the API: the backend or the server.
var errNotFound = errors.New("not found")

func (d *Driver) do(ctx context.Context, method, path string, body, out any) error {
	req, err := restclient.NewRequest(ctx, method, d.cfg.URL+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(d.cfg.User, d.cfg.Password.Reveal())
	what := method + " " + req.URL.Path
	status, raw, err := restclient.Send(d.cfg.Client, req)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", d.Pool(), what, err)
	}
	if status != http.StatusOK && status != http.StatusAccepted {
		var e struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		msg := strings.TrimSpace(string(raw))
		if json.Unmarshal(raw, &e) == nil && e.Message != "" {
			msg = e.Message
		}
		err := fmt.Errorf("%d %s: %s", status, http.StatusText(status), msg)
		if status == http.StatusNotFound {
			err = fmt.Errorf("%w: %w", errNotFound, err)
		}
		return fmt.Errorf("%s: %s: %w", d.Pool(), what, err)
	}
	if err := restclient.Decode(raw, out); err != nil {
		return fmt.Errorf("%s: %s: %w", d.Pool(), what, err)
	}
	return nil
}

type runtimeServer struct {
	Name       string `json:"name"`
	OpState    string `json:"operational_state"`
	AdminState string `json:"admin_state"`
}

type stat struct {
	scur, qcur int
	status     string
}

func (d *Driver) stats(ctx context.Context, server string) (map[string]stat, error) {
	q := url.Values{"type": {"server"}, "parent": {d.cfg.Backend}}
	if server != "" {
		q.Set("name", server)
	}
	var out []struct {
		Stats []struct {
			Type        string `json:"type"`
			Name        string `json:"name"`
			BackendName string `json:"backend_name"`
			Stats       struct {
				Scur   int    `json:"scur"`
				Qcur   int    `json:"qcur"`
				Status string `json:"status"`
			} `json:"stats"`
		} `json:"stats"`
		Error string `json:"error"`
	}
	if err := d.do(ctx, http.MethodGet, "/services/haproxy/stats/native?"+q.Encode(), nil, &out); err != nil {
		return nil, err
	}
	rows := map[string]stat{}
	for _, rt := range out {
		if rt.Error != "" {
			return nil, fmt.Errorf("%s: stats: %s", d.Pool(), rt.Error)
		}
		for _, s := range rt.Stats {
			if s.Type == "server" && s.BackendName == d.cfg.Backend {
				rows[s.Name] = stat{scur: s.Stats.Scur, qcur: s.Stats.Qcur, status: s.Stats.Status}
			}
		}
	}
	return rows, nil
}

func status(s runtimeServer, row stat) member.Status {
	// "UP 1/3" is a server between checks, as in the runtime API.
	st := member.Status{Name: s.Name, State: member.Enabled, Sessions: row.scur + row.qcur, Detail: row.status,
		Healthy: s.OpState == "up" && !strings.Contains(row.status, "/")}
	switch s.AdminState {
	case "maint":
		st.State, st.Healthy = member.Disabled, false
	case "drain":
		st.State = member.Drained
	}
	if st.Detail == "" {
		st.Detail = s.OpState + "/" + s.AdminState
	}
	return st
}

// Members implements lbmember.Driver.
func (d *Driver) Members(ctx context.Context) ([]member.Status, error) {
	var servers []runtimeServer
	if err := d.do(ctx, http.MethodGet, d.serversPath(""), nil, &servers); err != nil {
		return nil, err
	}
	rows, err := d.stats(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]member.Status, 0, len(servers))
	for _, s := range servers {
		out = append(out, status(s, rows[s.Name]))
	}
	return out, nil
}

func (d *Driver) server(ctx context.Context, name string) (runtimeServer, error) {
	var s runtimeServer
	err := d.do(ctx, http.MethodGet, d.serversPath(name), nil, &s)
	if errors.Is(err, errNotFound) {
		// The backend may be what is missing: ask for the list to tell.
		if lerr := d.do(ctx, http.MethodGet, d.serversPath(""), nil, &[]runtimeServer{}); lerr != nil {
			return s, lerr
		}
		return s, fmt.Errorf("%s: server %s: %w", d.Pool(), name, member.ErrNotFound)
	}
	return s, err
}

// Status implements lbmember.Driver.
func (d *Driver) Status(ctx context.Context, name string) (member.Status, error) {
	s, err := d.server(ctx, name)
	if err != nil {
		return member.Status{}, err
	}
	rows, err := d.stats(ctx, name)
	if err != nil {
		return member.Status{}, err
	}
	return status(s, rows[name]), nil
}

// SetState implements lbmember.Driver.
func (d *Driver) SetState(ctx context.Context, name string, st member.State) error {
	admin, ok := map[member.State]string{member.Enabled: "ready", member.Drained: "drain", member.Disabled: "maint"}[st]
	if !ok {
		return fmt.Errorf("%s: set %s: unknown state %q", d.Pool(), name, st)
	}
	if _, err := d.server(ctx, name); err != nil {
		return err
	}
	return d.do(ctx, http.MethodPut, d.serversPath(name), map[string]string{"admin_state": admin}, nil)
}
