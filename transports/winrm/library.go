package winrm

// This is the only file that uses github.com/masterzen/winrm. The 2021
// version the module proxy serves has no context support, reports SOAP
// faults as successful responses and leaves ids empty on failure, so osrun
// uses it only for what it does well (building envelopes, the Basic, NTLM
// and client-certificate HTTP transports) and checks every answer itself.
// Moving to a newer version should only touch this file.

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	lib "github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"
)

// endpoint is everything needed to reach one WinRM listener.
type endpoint struct {
	host             string
	port             int
	https            bool
	insecure         bool
	caPEM            []byte
	certPEM, keyPEM  []byte
	auth             string // basic, ntlm, certificate
	user, password   string
	timeout          time.Duration // HTTP response header timeout
	operationTimeout time.Duration // WS-Man OperationTimeout
	dial             func(network, addr string) (net.Conn, error)
}

// wsman is one client of one endpoint; safe for concurrent use, as the
// library's HTTP transports are.
type wsman struct {
	client *lib.Client
	tr     lib.Transporter
	params lib.Parameters
	url    string
	authed atomic.Bool // a request has succeeded with these credentials
}

func newWSMan(ep endpoint) (*wsman, error) {
	var tr lib.Transporter
	switch ep.auth {
	case authBasic:
		tr = lib.NewClientWithDial(ep.dial)
	case authNTLM:
		tr = lib.NewClientNTLMWithDial(ep.dial)
	case authCertificate:
		tr = lib.NewClientAuthRequestWithDial(ep.dial)
	default:
		return nil, fmt.Errorf("auth %q is not supported", ep.auth)
	}
	// Copy: DefaultParameters is a shared pointer.
	params := *lib.DefaultParameters
	params.Timeout = wsDuration(ep.operationTimeout)
	params.TransportDecorator = func() lib.Transporter { return tr }
	e := lib.NewEndpoint(ep.host, ep.port, ep.https, ep.insecure, ep.caPEM, ep.certPEM, ep.keyPEM, ep.timeout)
	c, err := lib.NewClientWithParameters(e, ep.user, ep.password, &params)
	if err != nil {
		return nil, fmt.Errorf("configure client: %w", err)
	}
	scheme := "http"
	if ep.https {
		scheme = "https"
	}
	return &wsman{client: c, tr: tr, params: params,
		url: fmt.Sprintf("%s://%s/wsman", scheme, net.JoinHostPort(ep.host, strconv.Itoa(ep.port)))}, nil
}

// wsDuration renders d as the xs:duration WS-Management expects.
func wsDuration(d time.Duration) string {
	return "PT" + strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + "S"
}

// isTransport reports whether err is the HTTP exchange failing (the
// connection refused or dropped, a timeout), as opposed to an answer.
func isTransport(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue)
}

// errAuth marks an HTTP 401: the client library reports it only as
// "http response error: 401 - invalid content type".
var errAuth = errors.New("authentication failed (HTTP 401)")

var httpStatusRe = regexp.MustCompile(`^http response error: (\d{3}) - `)

func isHTTP401(err error) bool {
	if err == nil {
		return false
	}
	m := httpStatusRe.FindStringSubmatch(err.Error())
	return m != nil && m[1] == "401"
}

// FaultError is a SOAP fault returned by the WinRM service.
type FaultError struct {
	Subcode string // e.g. w:TimedOut
	Code    string // WSManFault code, e.g. 2150858793
	Reason  string
}

func (e *FaultError) Error() string {
	code := ""
	if e.Code != "" {
		code = " (code " + e.Code + ")"
	}
	return fmt.Sprintf("ws-management fault %s%s: %s", e.Subcode, code, strings.TrimSpace(e.Reason))
}

// Timeout reports the fault a Receive gets when the command wrote nothing
// within OperationTimeout: not an error, just "poll again".
func (e *FaultError) Timeout() bool {
	return strings.HasSuffix(e.Subcode, ":TimedOut") || e.Code == "2150858793"
}

type faultXML struct {
	Body struct {
		Fault *struct {
			Subcode string `xml:"Code>Subcode>Value"`
			Reason  string `xml:"Reason>Text"`
			Detail  struct {
				WSManFault struct {
					Code    string `xml:"Code,attr"`
					Message string `xml:"Message"`
				} `xml:"WSManFault"`
			} `xml:"Detail"`
		} `xml:"Fault"`
	} `xml:"Body"`
}

func (w *wsman) post(msg *soap.SoapMessage) (string, error) {
	defer msg.Free()
	body, err := w.tr.Post(w.client, msg)
	// NTLM authenticates a connection, and go-ntlmssp's handshake can lose
	// its connection to a concurrent request (a Send racing a Receive):
	// the server then refuses the final leg with a 401. Once these
	// credentials have worked, such a 401 is retried; the server did not
	// process the refused request.
	for retry := 0; retry < 5 && w.authed.Load() && isHTTP401(err); retry++ {
		body, err = w.tr.Post(w.client, msg)
	}
	if err == nil {
		w.authed.Store(true)
	}
	if err != nil {
		if isHTTP401(err) {
			return "", errAuth
		}
		// The library prefixes every transport failure with "unknown
		// error"; the wrapped *url.Error says it better.
		if inner := errors.Unwrap(err); inner != nil && strings.HasPrefix(err.Error(), "unknown error ") {
			return "", inner
		}
		return "", err
	}
	// Output streams are base64, which never holds "Fault>": the full
	// parse, slow on large outputs, is needed only when this is present.
	if !strings.Contains(body, "Fault>") {
		return body, nil
	}
	var f faultXML
	if xerr := xml.Unmarshal([]byte(body), &f); xerr != nil {
		return "", fmt.Errorf("unreadable response: %w", xerr)
	}
	if f.Body.Fault != nil {
		r := f.Body.Fault.Reason
		if r == "" {
			r = f.Body.Fault.Detail.WSManFault.Message
		}
		return "", &FaultError{Subcode: f.Body.Fault.Subcode, Code: f.Body.Fault.Detail.WSManFault.Code, Reason: r}
	}
	return body, nil
}

func (w *wsman) createShell() (string, error) {
	body, err := w.post(lib.NewOpenShellRequest(w.url, &w.params))
	if err != nil {
		return "", err
	}
	id, _ := lib.ParseOpenShellResponse(body)
	if id == "" {
		// Newer servers and library versions name it here instead.
		var r struct {
			ShellID string `xml:"Body>Shell>ShellId"`
		}
		_ = xml.Unmarshal([]byte(body), &r)
		id = strings.TrimSpace(r.ShellID)
	}
	if id == "" {
		return "", errors.New("response carries no shell id")
	}
	return id, nil
}

func (w *wsman) command(shellID, commandLine string) (string, error) {
	body, err := w.post(lib.NewExecuteCommandRequest(w.url, shellID, commandLine, nil, &w.params))
	if err != nil {
		return "", err
	}
	id, _ := lib.ParseExecuteCommandResponse(body)
	if id = strings.TrimSpace(id); id == "" {
		return "", errors.New("response carries no command id")
	}
	return id, nil
}

func (w *wsman) send(shellID, commandID string, data []byte, eof bool) error {
	_, err := w.post(lib.NewSendInputRequest(w.url, shellID, commandID, data, eof, &w.params))
	return err
}

func (w *wsman) signalTerminate(shellID, commandID string) error {
	_, err := w.post(lib.NewSignalRequest(w.url, shellID, commandID, &w.params))
	return err
}

func (w *wsman) deleteShell(shellID string) error {
	_, err := w.post(lib.NewDeleteShellRequest(w.url, shellID, &w.params))
	return err
}

// writeError is the caller's writer failing, not the connection.
type writeError struct {
	stream string
	err    error
}

func (e *writeError) Error() string { return "write " + e.stream + ": " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

type receiveXML struct {
	Streams []struct {
		Name      string `xml:"Name,attr"`
		CommandID string `xml:"CommandId,attr"`
		Data      string `xml:",chardata"`
	} `xml:"Body>ReceiveResponse>Stream"`
	State *struct {
		CommandID string  `xml:"CommandId,attr"`
		State     string  `xml:"State,attr"`
		ExitCode  *string `xml:"ExitCode"`
	} `xml:"Body>ReceiveResponse>CommandState"`
}

const stateDone = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"

// receive fetches one round of output. The library's parser ignores
// command ids and reads a missing exit code as 0; this one refuses both.
// A w:TimedOut fault is a normal empty round.
func (w *wsman) receive(shellID, commandID string, stdout, stderr io.Writer) (done bool, exitCode int, err error) {
	body, err := w.post(lib.NewGetOutputRequest(w.url, shellID, commandID, "stdout stderr", &w.params))
	if err != nil {
		var f *FaultError
		if errors.As(err, &f) && f.Timeout() {
			return false, 0, nil
		}
		return false, 0, err
	}
	var r receiveXML
	if err := xml.Unmarshal([]byte(body), &r); err != nil {
		return false, 0, fmt.Errorf("unreadable receive response: %w", err)
	}
	for _, s := range r.Streams {
		if s.CommandID != "" && !strings.EqualFold(s.CommandID, commandID) {
			return false, 0, fmt.Errorf("output for command %s in a receive for %s", s.CommandID, commandID)
		}
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s.Data))
		if err != nil {
			return false, 0, fmt.Errorf("undecodable %s stream: %w", s.Name, err)
		}
		if len(data) == 0 {
			continue
		}
		switch s.Name {
		case "stdout":
			_, err = stdout.Write(data)
		case "stderr":
			_, err = stderr.Write(data)
		}
		if err != nil {
			return false, 0, &writeError{s.Name, err}
		}
	}
	if r.State == nil || r.State.State != stateDone {
		return false, 0, nil
	}
	if r.State.ExitCode == nil {
		return true, 0, errors.New("command reported Done without an exit code")
	}
	code, err := strconv.Atoi(strings.TrimSpace(*r.State.ExitCode))
	if err != nil {
		return true, 0, fmt.Errorf("unreadable exit code %q", *r.State.ExitCode)
	}
	return true, code, nil
}
