package farm

import (
	"context"
	"fmt"
	"os/exec"
	"time"

	"github.com/osrun/osrun/lab/lb"
	"github.com/osrun/osrun/lab/traffic"
	"github.com/osrun/osrun/modules/lbmember/haproxy"
)

// balancer is what the farm needs of its load balancer: the simulated one
// (lab/lb) or a real HAProxy.
type balancer interface {
	// URL is where the traffic goes.
	URL() string
	// APIAddr is the runtime API's host:port; Backend the pool's name.
	APIAddr() string
	Backend() string
	// member reads one member's status word and rotation.
	member(ctx context.Context, name string) (detail string, inRotation bool)
	Close() error
}

// simLB adapts lab/lb.
type simLB struct{ *lb.LB }

func (s simLB) member(_ context.Context, name string) (string, bool) {
	m, ok := s.Member(name)
	if !ok {
		return "unknown", false
	}
	return m.Detail, m.InRotation()
}

// realHAProxy is a real haproxy process configured like lab/lb
// (lb.StartReal). It has no event hook, so the monitor learns its rotation
// by polling the runtime API through osrun's own driver.
type realHAProxy struct {
	*lb.Real
	drv     *haproxy.Driver
	stop    context.CancelFunc
	sampled chan struct{}
}

func (f *Farm) startHAProxy(members []lb.MemberConfig) (*realHAProxy, error) {
	if _, err := exec.LookPath("haproxy"); err != nil {
		return nil, fmt.Errorf("the real HAProxy: %w (install haproxy, or use the simulated balancer)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	real, err := lb.StartReal(ctx, lb.Config{
		Backend:       "outsystems",
		Members:       members,
		CheckInterval: f.cfg.CheckInterval,
		Rise:          2,
		Fall:          2,
		ServerTimeout: 10 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("haproxy: %w", err)
	}
	h := &realHAProxy{
		Real: real,
		drv:  haproxy.New(haproxy.Config{Network: "tcp", Address: real.APIAddr(), Backend: real.Backend(), Timeout: 2 * time.Second}),
	}
	sctx, stop := context.WithCancel(context.Background())
	h.stop, h.sampled = stop, make(chan struct{})
	go func() {
		defer close(h.sampled)
		// A monitor that stopped seeing rotation cannot vouch for the
		// run: the verdict fails.
		if err := f.mon.Sample(sctx, 20*time.Millisecond, h.rotation); err != nil && sctx.Err() == nil {
			f.problem("the HAProxy monitor stopped: %v", err)
		}
	}()
	return h, nil
}

func (h *realHAProxy) rotation(ctx context.Context) ([]traffic.InRotation, error) {
	ms, err := h.drv.Members(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]traffic.InRotation, len(ms))
	for i, m := range ms {
		out[i] = traffic.InRotation{Member: m.Name, In: m.InRotation()}
	}
	return out, nil
}

func (h *realHAProxy) member(ctx context.Context, name string) (string, bool) {
	s, err := h.drv.Status(ctx, name)
	if err != nil {
		return "unknown: " + err.Error(), false
	}
	return s.Detail, s.InRotation()
}

// Close stops the sampling, then HAProxy.
func (h *realHAProxy) Close() error {
	h.stop()
	<-h.sampled
	return h.Real.Close()
}
