package winrm

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/osrun/osrun/transports/winrm/winrmtest"
)

// TestNTLMConcurrentRequests: NTLM authenticates connections, and
// go-ntlmssp's three legs can land on different connections when requests
// run in parallel (a Receive long-poll next to a Send). Once the
// credentials have worked, such refusals must be retried, not surface.
func TestNTLMConcurrentRequests(t *testing.T) {
	srv := winrmtest.NewServer(t, winrmtest.Options{HTTP: true, Password: "pw", Auth: []string{winrmtest.AuthNTLM}})
	ws, err := newWSMan(endpoint{
		host: srv.Host, port: srv.Port, auth: authNTLM, user: srv.User, password: "pw",
		timeout: 10 * time.Second, operationTimeout: 2 * time.Second,
		dial: (&net.Dialer{}).Dial,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.createShell(); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := ws.createShell()
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
