package winrmtest_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	lib "github.com/masterzen/winrm"

	"github.com/osrun/osrun/transports/winrm/winrmtest"
)

// client returns a masterzen/winrm client for srv: the server is checked
// against the very library the transport uses, driving it the library's
// own way (RunWithString: Signal after Done, then Send End, then Delete).
func client(t *testing.T, srv *winrmtest.Server, password string, ntlm bool) *lib.Client {
	t.Helper()
	https := srv.CAPEM != nil
	ep := lib.NewEndpoint(srv.Host, srv.Port, https, false, srv.CAPEM, nil, nil, 5*time.Second)
	params := *lib.DefaultParameters
	params.Timeout = "PT1S"
	if ntlm {
		params.TransportDecorator = func() lib.Transporter { return &lib.ClientNTLM{} }
	}
	c, err := lib.NewClientWithParameters(ep, srv.User, password, &params)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func echoHost() *winrmtest.Host {
	h := winrmtest.NewHost()
	h.HandleMatch(func(s string) bool { return strings.HasSuffix(s, "Echo-Stdin") },
		func(_ context.Context, _ string, stdin io.Reader, stdout, stderr io.Writer) int {
			// RunWithString closes stdin only after the command is done,
			// so read what the test sends rather than up to end of file.
			b := make([]byte, len("some input"))
			n, _ := io.ReadFull(stdin, b)
			stdout.Write(b[:n])
			io.WriteString(stderr, "warned")
			return 5
		})
	return h
}

func TestLibraryRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts winrmtest.Options
		ntlm bool
	}{
		{"basic over https", winrmtest.Options{}, false},
		{"ntlm over http", winrmtest.Options{HTTP: true, Auth: []string{winrmtest.AuthNTLM}}, true},
		{"partial streams", winrmtest.Options{ReceiveChunk: 3}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Password = "secret"
			tc.opts.Handler = echoHost()
			srv := winrmtest.NewServer(t, tc.opts)
			stdout, stderr, code, err := client(t, srv, "secret", tc.ntlm).RunPSWithString("Echo-Stdin", "some input")
			if err != nil {
				t.Fatal(err)
			}
			if stdout != "some input" || stderr != "warned" || code != 5 {
				t.Errorf("stdout %q, stderr %q, exit %d", stdout, stderr, code)
			}
			var ops []string
			receives := 0
			for _, e := range srv.Events() {
				if e.Op == "Receive" {
					receives++
					if e.Detail != "done" {
						continue
					}
				}
				ops = append(ops, e.Op+":"+e.Detail)
			}
			want := "Create: Command: Send: Receive:done Signal:http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate Send:end Delete:"
			if got := strings.Join(ops, " "); got != want {
				t.Errorf("operations\n got %s\nwant %s", got, want)
			}
			if tc.opts.ReceiveChunk == 3 && receives < 4 {
				t.Errorf("%d Receive rounds for %d bytes in chunks of 3", receives, len("some input"))
			}
		})
	}
}

func TestLibraryAuthFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts winrmtest.Options
		ntlm bool
	}{
		{"basic wrong password", winrmtest.Options{}, false},
		{"ntlm wrong password", winrmtest.Options{}, true},
		{"basic not accepted", winrmtest.Options{Auth: []string{winrmtest.AuthNTLM}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Password = "secret"
			srv := winrmtest.NewServer(t, tc.opts)
			password := "wrong"
			if tc.name == "basic not accepted" {
				password = "secret"
			}
			_, _, _, err := client(t, srv, password, tc.ntlm).RunPSWithString("Echo-Stdin", "some input")
			if err == nil || !strings.Contains(err.Error(), "401") {
				t.Fatalf("err = %v, want the library's 401 error", err)
			}
		})
	}
}

// TestRawResponses checks what the library cannot show: status codes,
// headers and fault bodies.
func TestRawResponses(t *testing.T) {
	srv := winrmtest.NewServer(t, winrmtest.Options{HTTP: true, Password: "secret", MaxCommandLine: 100})
	params := lib.DefaultParameters
	c := client(t, srv, "secret", false)
	shell, err := c.CreateShell()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		body       string
		noAuth     bool
		status     int
		wantHeader string
		wantBody   string
	}{
		{name: "no credentials", body: lib.NewOpenShellRequest(srv.URL, params).String(), noAuth: true,
			status: 401, wantHeader: "Negotiate"},
		{name: "unknown shell", body: lib.NewExecuteCommandRequest(srv.URL, "NOPE", "cmd", nil, params).String(),
			status: 500, wantBody: `Code="2150858843"`},
		{name: "unknown command", body: lib.NewGetOutputRequest(srv.URL, "SHELL", "NOPE", "stdout stderr", params).String(),
			status: 500, wantBody: "does not exist on the server"},
		{name: "command line too long", body: lib.NewExecuteCommandRequest(srv.URL, "SHELL", strings.Repeat("x", 101), nil, params).String(),
			status: 500, wantBody: "The filename or extension is too long."},
		{name: "empty command", body: lib.NewExecuteCommandRequest(srv.URL, "SHELL", " ", nil, params).String(),
			status: 500, wantBody: "w:InvalidParameter"},
		{name: "not soap", body: "hello", status: 500, wantBody: "w:SchemaValidationError"},
		{name: "over MaxEnvelopeSize", body: lib.NewSendInputRequest(srv.URL, "SHELL", "CMD", make([]byte, 400<<10), false, params).String(),
			status: 500, wantBody: "w:EncodingLimit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := strings.ReplaceAll(tc.body, ">SHELL<", ">"+shellID(t, srv, shell)+"<")
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
			if !tc.noAuth {
				req.SetBasicAuth(srv.User, "secret")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == 401 {
				if ct := resp.Header.Get("Content-Type"); ct != "" || len(b) != 0 {
					t.Errorf("401 with Content-Type %q and body %q; Windows sends neither", ct, b)
				}
			} else if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/soap+xml") {
				t.Errorf("Content-Type %q", ct)
			}
			if h := strings.Join(resp.Header.Values("WWW-Authenticate"), ", "); !strings.Contains(h, tc.wantHeader) {
				t.Errorf("WWW-Authenticate %q, want %q", h, tc.wantHeader)
			}
			if !strings.Contains(string(b), tc.wantBody) {
				t.Errorf("body %s, want %q", b, tc.wantBody)
			}
		})
	}
}

// shellID recovers the id of a shell from the server's events: the
// library keeps it private.
func shellID(t *testing.T, srv *winrmtest.Server, _ *lib.Shell) string {
	for _, e := range srv.Events() {
		if e.Op == "Create" {
			return e.ShellID
		}
	}
	t.Fatal("no shell created")
	return ""
}

func TestUnknownScriptFails(t *testing.T) {
	srv := winrmtest.NewServer(t, winrmtest.Options{Password: "secret"})
	_, stderr, code, err := client(t, srv, "secret", false).RunPSWithString("Format-Disk C:", "")
	if err != nil {
		t.Fatal(err)
	}
	if code != 1 || !strings.HasPrefix(stderr, "#< CLIXML") || !strings.Contains(stderr, "is not recognized as the name of a cmdlet") {
		t.Errorf("exit %d, stderr %q; want exit 1 and a CLIXML error", code, stderr)
	}
	_, stderr, code, err = client(t, srv, "secret", false).RunWithString("ipconfig /all", "")
	if err != nil {
		t.Fatal(err)
	}
	if code != 1 || !strings.Contains(stderr, "'ipconfig' is not recognized as an internal or external command") {
		t.Errorf("cmd.exe line: exit %d, stderr %q", code, stderr)
	}
}

func TestDecodeCommandLine(t *testing.T) {
	enc := strings.TrimPrefix(lib.Powershell("Get-Date"), "powershell.exe -EncodedCommand ")
	for _, tc := range []struct {
		line, script string
		ps, bad      bool
	}{
		{line: "powershell.exe -EncodedCommand " + enc, script: "$ProgressPreference = 'SilentlyContinue';Get-Date", ps: true},
		{line: "PowerShell -NoProfile -enc " + enc, script: "$ProgressPreference = 'SilentlyContinue';Get-Date", ps: true},
		{line: "powershell -e " + enc, script: "$ProgressPreference = 'SilentlyContinue';Get-Date", ps: true},
		{line: "powershell -EncodedCommand !!!", ps: true, bad: true},
		{line: "powershell -EncodedCommand", ps: true, bad: true},
		{line: "cmd /c dir"},
	} {
		script, ps, err := winrmtest.DecodeCommandLine(tc.line)
		if script != tc.script || ps != tc.ps || (err != nil) != tc.bad {
			t.Errorf("DecodeCommandLine(%.40q) = %q, %v, %v", tc.line, script, ps, err)
		}
	}
}

func TestUnquote(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{in: "'a''b'", want: "a'b"},
		{in: "'‘‘x’’'", want: "‘x’"},
		{in: "''", want: ""},
		{in: "'a'b'", bad: true},
		{in: "'a’b'", bad: true},
		{in: "abc", bad: true},
	} {
		got, err := winrmtest.Unquote(tc.in)
		if got != tc.want || (err != nil) != tc.bad {
			t.Errorf("Unquote(%q) = %q, %v", tc.in, got, err)
		}
	}
}
