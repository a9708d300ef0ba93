package netscaler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules/lbmember/member"
	"github.com/osrun/osrun/modules/lbmember/restclient"
	"github.com/osrun/osrun/modules/lbmember/setting"
)

// Config locates the ADC and the service group.
type Config struct {
	// URL is the management address, e.g. https://adc.example.
	URL          string
	ServiceGroup string
	User         string
	Password     secret.Value
	// DrainDelay is the delay sent with a drain; zero means 1h.
	DrainDelay time.Duration
	// Client makes the requests; nil means http.DefaultClient.
	Client *http.Client
}

// Driver talks to one service group.
type Driver struct{ cfg Config }

// New returns a driver for cfg.
func New(cfg Config) *Driver {
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	if cfg.DrainDelay <= 0 {
		cfg.DrainDelay = time.Hour
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	return &Driver{cfg: cfg}
}

// FromEndpoint decodes a load_balancer block: url, servicegroup, user,
// password (a secret reference), optional drain_delay, ca_file, insecure,
// timeout.
func FromEndpoint(ep *inventory.Endpoint) (*Driver, error) {
	r := setting.New(fmt.Sprintf("load balancer %s (netscaler)", ep.Name), ep.Settings)
	cfg := Config{
		URL:          r.URL("url", "an https URL such as https://adc.example"),
		ServiceGroup: r.Required("servicegroup"),
		User:         r.Required("user"),
		Password:     r.Secret("password"),
		DrainDelay:   r.Duration("drain_delay", time.Hour),
		Client:       r.HTTPClient(),
	}
	if cfg.Password.IsZero() {
		r.Fail("password", "is required (a secret reference such as env(\"NITRO_PASSWORD\"))")
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return New(cfg), nil
}

// Pool implements lbmember.Driver.
func (d *Driver) Pool() string {
	return fmt.Sprintf("netscaler servicegroup %s at %s", d.cfg.ServiceGroup, d.cfg.URL)
}

// nitroError is NITRO's answer envelope.
type nitroError struct {
	ErrorCode int    `json:"errorcode"`
	Message   string `json:"message"`
	Severity  string `json:"severity"`
}

// ErrServiceGroupNotFound is wrapped when the ADC does not know the group.
var ErrServiceGroupNotFound = errors.New("no such servicegroup")

func (d *Driver) do(ctx context.Context, method, path string, body, out any) error {
	req, err := restclient.NewRequest(ctx, method, d.cfg.URL+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-NITRO-USER", d.cfg.User)
	req.Header.Set("X-NITRO-PASS", d.cfg.Password.Reveal())
	what := method + " " + strings.SplitN(path, "?args=", 2)[0]
	status, raw, err := restclient.Send(d.cfg.Client, req)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", d.Pool(), what, err)
	}
	var env nitroError
	jsonErr := json.Unmarshal(raw, &env)
	// 200 and 201 succeed; 209 succeeds with a warning (X-NITRO-WARNING).
	if status >= 300 || (jsonErr == nil && env.ErrorCode != 0 && env.Severity == "ERROR") {
		msg := strings.TrimSpace(string(raw))
		if jsonErr == nil && env.Message != "" {
			msg = fmt.Sprintf("errorcode %d: %s", env.ErrorCode, env.Message)
		}
		err := fmt.Errorf("%d %s: %s", status, http.StatusText(status), msg)
		if strings.Contains(env.Message, "No such resource") {
			err = fmt.Errorf("%w: %w", ErrServiceGroupNotFound, err)
		}
		return fmt.Errorf("%s: %s: %w", d.Pool(), what, err)
	}
	if err := restclient.Decode(raw, out); err != nil {
		return fmt.Errorf("%s: %s: %w", d.Pool(), what, err)
	}
	return nil
}

type binding struct {
	ServerName string `json:"servername"`
	Port       int    `json:"port"`
	SvrState   string `json:"svrstate"`
	State      string `json:"state"`
}

func (b binding) name() string { return b.ServerName + ":" + strconv.Itoa(b.Port) }

func (d *Driver) list(ctx context.Context) ([]binding, error) {
	var out struct {
		Bindings []binding `json:"servicegroup_servicegroupmember_binding"`
	}
	path := "/nitro/v1/config/servicegroup_servicegroupmember_binding/" + url.PathEscape(d.cfg.ServiceGroup)
	if err := d.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	return out.Bindings, nil
}

// find matches "server:port", or "server" when it is bound once.
func (d *Driver) find(ctx context.Context, name string) (binding, error) {
	all, err := d.list(ctx)
	if err != nil {
		return binding{}, err
	}
	var hits []binding
	for _, b := range all {
		if b.name() == name || b.ServerName == name {
			hits = append(hits, b)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		return binding{}, fmt.Errorf("%s: member %s: %w", d.Pool(), name, member.ErrNotFound)
	}
	return binding{}, fmt.Errorf("%s: member %s is bound on several ports; name it as server:port", d.Pool(), name)
}

func (d *Driver) sessions(ctx context.Context, b binding) (int, error) {
	var out struct {
		Members []struct {
			Clnt string `json:"curclntconnections"`
			Srvr string `json:"cursrvrconnections"`
		} `json:"servicegroupmember"`
	}
	args := fmt.Sprintf("servicegroupname:%s,servername:%s,port:%d", d.cfg.ServiceGroup, b.ServerName, b.Port)
	if err := d.do(ctx, http.MethodGet, "/nitro/v1/stat/servicegroupmember?args="+url.QueryEscape(args), nil, &out); err != nil {
		return 0, err
	}
	if len(out.Members) == 0 {
		return 0, fmt.Errorf("%s: no statistics for %s", d.Pool(), b.name())
	}
	n := 0
	for _, s := range []string{out.Members[0].Clnt, out.Members[0].Srvr} {
		v, err := strconv.Atoi(s)
		if err != nil && s != "" {
			return 0, fmt.Errorf("%s: statistics of %s: connection count %q: %w", d.Pool(), b.name(), s, err)
		}
		n = max(n, v)
	}
	return n, nil
}

func (d *Driver) status(ctx context.Context, b binding) (member.Status, error) {
	st := member.Status{Name: b.name(), State: member.Enabled, Detail: b.SvrState,
		Healthy: b.SvrState == "UP" || b.SvrState == "GOING OUT OF SERVICE"}
	if b.State == "DISABLED" {
		st.State, st.Healthy = member.Disabled, false
		if b.SvrState == "GOING OUT OF SERVICE" {
			st.State, st.Healthy = member.Drained, true
		}
	}
	n, err := d.sessions(ctx, b)
	st.Sessions = n
	return st, err
}

// Members implements lbmember.Driver.
func (d *Driver) Members(ctx context.Context) ([]member.Status, error) {
	all, err := d.list(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]member.Status, 0, len(all))
	for _, b := range all {
		st, err := d.status(ctx, b)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// Status implements lbmember.Driver.
func (d *Driver) Status(ctx context.Context, name string) (member.Status, error) {
	b, err := d.find(ctx, name)
	if err != nil {
		return member.Status{}, err
	}
	return d.status(ctx, b)
}

func (d *Driver) action(ctx context.Context, verb string, b binding, extra map[string]any) error {
	sg := map[string]any{"servicegroupname": d.cfg.ServiceGroup, "servername": b.ServerName, "port": b.Port}
	for k, v := range extra {
		sg[k] = v
	}
	err := d.do(ctx, http.MethodPost, "/nitro/v1/config/servicegroup?action="+verb, map[string]any{"servicegroup": sg}, nil)
	if err != nil {
		return fmt.Errorf("%s %s: %w", verb, b.name(), err)
	}
	return nil
}

// SetState implements lbmember.Driver.
func (d *Driver) SetState(ctx context.Context, name string, st member.State) error {
	if _, err := member.Parse(string(st)); err != nil {
		return fmt.Errorf("%s: set %s: %w", d.Pool(), name, err)
	}
	b, err := d.find(ctx, name)
	if err != nil {
		return err
	}
	cur, err := d.status(ctx, b)
	if err != nil {
		return err
	}
	if cur.State == st {
		// No call for no change: repeating an action is not documented as safe.
		return nil
	}
	switch st {
	case member.Enabled:
		return d.action(ctx, "enable", b, nil)
	case member.Disabled:
		return d.action(ctx, "disable", b, nil)
	}
	if cur.State == member.Disabled {
		// A delay only applies to a member leaving service.
		if err := d.action(ctx, "enable", b, nil); err != nil {
			return err
		}
	}
	return d.action(ctx, "disable", b, map[string]any{"delay": int(d.cfg.DrainDelay / time.Second)})
}
