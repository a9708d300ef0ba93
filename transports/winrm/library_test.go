package winrm

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	lib "github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"

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

// cannedTransport answers every request with one body, as a server that
// misbehaves in a precise way.
type cannedTransport struct{ body string }

func (c cannedTransport) Post(*lib.Client, *soap.SoapMessage) (string, error) { return c.body, nil }
func (c cannedTransport) Transport(*lib.Endpoint) error                       { return nil }

const envOpen = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><s:Header/><s:Body>`
const envClose = `</s:Body></s:Envelope>`

// TestResponseChecks feeds answers the 2021 library would take as success
// (an empty id, exit code 0) and checks osrun refuses them.
func TestResponseChecks(t *testing.T) {
	timedOut := `<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:TimedOut</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">timed out</s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858793"/></s:Detail></s:Fault>`
	for _, tc := range []struct {
		name    string
		body    string
		call    func(w *wsman) (string, error)
		want    string // result
		wantErr string
	}{
		{name: "create without any id", body: `<x:ResourceCreated/>`,
			call: func(w *wsman) (string, error) { return w.createShell() }, wantErr: "no shell id"},
		{name: "create with rsp:ShellId only", body: `<rsp:Shell><rsp:ShellId>S1</rsp:ShellId></rsp:Shell>`,
			call: func(w *wsman) (string, error) { return w.createShell() }, want: "S1"},
		{name: "command without id", body: `<rsp:CommandResponse/>`,
			call: func(w *wsman) (string, error) { return w.command("S", "x") }, wantErr: "no command id"},
		{name: "done without exit code", body: `<rsp:ReceiveResponse><rsp:CommandState CommandId="C" State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"/></rsp:ReceiveResponse>`,
			call: receiveCall, wantErr: "without an exit code"},
		{name: "output of another command", body: `<rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="OTHER">aGk=</rsp:Stream></rsp:ReceiveResponse>`,
			call: receiveCall, wantErr: "output for command OTHER"},
		{name: "timed out is not done", body: timedOut, call: receiveCall, want: "running"},
		{name: "done with exit code", body: `<rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="C">aGk=</rsp:Stream><rsp:CommandState CommandId="C" State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"><rsp:ExitCode>-1073741510</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>`,
			call: receiveCall, want: "hi done -1073741510"},
		{name: "fault on create", body: `<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError</s:Value></s:Subcode></s:Code><s:Reason><s:Text>boom</s:Text></s:Reason></s:Fault>`,
			call: func(w *wsman) (string, error) { return w.createShell() }, wantErr: "ws-management fault w:InternalError: boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &wsman{tr: cannedTransport{envOpen + tc.body + envClose}, params: *lib.DefaultParameters, url: "http://h:5985/wsman"}
			got, err := tc.call(w)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %q, %v; want error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func receiveCall(w *wsman) (string, error) {
	var out strings.Builder
	done, code, err := w.receive("S", "C", &out, &out)
	if err != nil {
		return "", err
	}
	if !done {
		return "running", nil
	}
	return fmt.Sprintf("%s done %d", out.String(), code), nil
}
