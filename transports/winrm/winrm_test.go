package winrm_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/transports"
	"github.com/osrun/osrun/transports/transporttest"
	"github.com/osrun/osrun/transports/winrm"
	"github.com/osrun/osrun/transports/winrm/winrmtest"
)

// warnings collects Options.Warn messages.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) warn(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

func (w *warnings) joined() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.msgs, "\n")
}

func TestDialSecurity(t *testing.T) {
	tlsSrv := winrmtest.NewServer(t, winrmtest.Options{Password: password})
	other := winrmtest.NewServer(t, winrmtest.Options{Password: password})
	httpSrv := winrmtest.NewServer(t, winrmtest.Options{HTTP: true, Password: password})
	yes := true

	for _, tc := range []struct {
		name        string
		srv         *winrmtest.Server
		edit        func(h *inventory.Host)
		wantErr     string // substring; "" means Dial succeeds
		unreachable bool   // error wraps transports.ErrUnreachable
		wantWarn    string
	}{
		{name: "verified https", srv: tlsSrv},
		{name: "wrong CA refused", srv: tlsSrv, edit: func(h *inventory.Host) {
			h.WinRM.CAFile = writeFile(t, "other-ca.pem", other.CAPEM)
		}, wantErr: "certificate signed by unknown authority", unreachable: true},
		{name: "system pool refuses private CA", srv: tlsSrv, edit: func(h *inventory.Host) {
			h.WinRM.CAFile = ""
		}, wantErr: "certificate", unreachable: true},
		{name: "insecure warns", srv: tlsSrv, edit: func(h *inventory.Host) {
			h.WinRM.CAFile = ""
			h.WinRM.Insecure = true
		}, wantWarn: "insecure = true: the server certificate is not verified"},
		{name: "basic over http refused", srv: httpSrv, edit: func(h *inventory.Host) {
			h.WinRM.Auth = "basic"
		}, wantErr: "basic authentication over plain http would send the password in clear text"},
		{name: "ntlm over http warns", srv: httpSrv, wantWarn: "plain http"},
		{name: "https forced on an http listener", srv: httpSrv, edit: func(h *inventory.Host) {
			h.WinRM.HTTPS = &yes
		}, wantErr: "http", unreachable: true},
		{name: "bad CA file", srv: tlsSrv, edit: func(h *inventory.Host) {
			h.WinRM.CAFile = writeFile(t, "junk.pem", []byte("not a certificate"))
		}, wantErr: "holds no PEM certificate"},
		{name: "kerberos not supported", srv: tlsSrv, edit: func(h *inventory.Host) {
			h.WinRM.Auth = "kerberos"
		}, wantErr: "kerberos authentication is not supported"},
		{name: "operation timeout above http timeout", srv: tlsSrv, edit: func(h *inventory.Host) {
			h.WinRM.OperationTimeout = h.WinRM.Timeout
		}, wantErr: "must be well below timeout"},
		{name: "wrong password ntlm", srv: tlsSrv, edit: func(h *inventory.Host) {
			h.WinRM.Password = secretOf("nope")
		}, wantErr: "authentication failed (HTTP 401)", unreachable: true},
		{name: "wrong password basic", srv: tlsSrv, edit: func(h *inventory.Host) {
			h.WinRM.Auth = "basic"
			h.WinRM.Password = secretOf("nope")
		}, wantErr: "authentication failed (HTTP 401)", unreachable: true},
		{name: "user@domain form", srv: tlsSrv, edit: func(h *inventory.Host) {
			h.WinRM.User = tlsSrv.User + "@osrun.example"
		}},
		{name: "nothing listening", srv: tlsSrv, edit: func(h *inventory.Host) {
			h.WinRM.Port = closedPort(t)
		}, wantErr: "refused", unreachable: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := hostFor(t, tc.srv, "")
			if tc.edit != nil {
				tc.edit(h)
			}
			var w warnings
			c, err := winrm.Dial(t.Context(), h, winrm.Options{Warn: w.warn})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				defer c.Close()
				var out bytes.Buffer
				if err := c.Run(t.Context(), &transports.Cmd{Command: "[Console]::Out.Write('hi')", Stdout: &out}); err != nil || out.String() != "hi" {
					t.Errorf("Run: %v, stdout %q", err, out.String())
				}
			} else {
				if err == nil {
					t.Fatalf("Dial succeeded, want error containing %q", tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Dial error %q, want it to contain %q", err, tc.wantErr)
				}
				if testing.Verbose() {
					t.Log(err)
				}
				if got := errors.Is(err, transports.ErrUnreachable); got != tc.unreachable {
					t.Errorf("errors.Is(err, ErrUnreachable) = %v, want %v (err %v)", got, tc.unreachable, err)
				}
				if !strings.HasPrefix(err.Error(), "winrm fe01: ") {
					t.Errorf("error %q does not name the host", err)
				}
			}
			if got := w.joined(); tc.wantWarn != "" && !strings.Contains(got, tc.wantWarn) {
				t.Errorf("warnings %q, want one containing %q", got, tc.wantWarn)
			} else if tc.wantWarn == "" && got != "" && tc.wantErr == "" {
				t.Errorf("unexpected warnings %q", got)
			}
		})
	}
}

func TestClientCertificate(t *testing.T) {
	srv := winrmtest.NewServer(t, winrmtest.Options{Auth: []string{winrmtest.AuthCertificate}})
	certPEM, keyPEM, err := srv.ClientCertificate("osrun")
	if err != nil {
		t.Fatal(err)
	}
	h := hostFor(t, srv, "certificate")
	h.WinRM.ClientCert = writeFile(t, "client.pem", certPEM)
	h.WinRM.ClientKey = writeFile(t, "client.key", keyPEM)
	c := dial(t, h)
	var out bytes.Buffer
	if err := c.Run(t.Context(), &transports.Cmd{Command: "[Console]::Out.Write('cert')", Stdout: &out}); err != nil || out.String() != "cert" {
		t.Fatalf("Run: %v, stdout %q", err, out.String())
	}

	// Without a certificate the same server turns the client away.
	h2 := hostFor(t, srv, "ntlm")
	if _, err := winrm.Dial(t.Context(), h2, winrm.Options{}); !errors.Is(err, transports.ErrUnreachable) {
		t.Fatalf("Dial without certificate = %v, want ErrUnreachable", err)
	}
}

func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		op      string
		fault   winrmtest.Fault
		wantErr string
		lost    bool
	}{
		{"Create", winrmtest.Fault{Subcode: "w:InternalError", Code: 2147943418, Message: "Illegal operation attempted on a registry key that has been marked for deletion."},
			"create shell: ws-management fault w:InternalError (code 2147943418): Illegal operation", false},
		{"Command", winrmtest.Fault{Subcode: "w:InternalError", Code: 2147942606, Message: "The filename or extension is too long."},
			"start command: ws-management fault w:InternalError", false},
		{"Receive", winrmtest.Fault{Subcode: "w:InvalidSelectors", Code: 2150858843, Message: "The request for the Windows Remote Shell with ShellId X failed because the shell was not found on the server."},
			"shell was not found", true},
		// The command reads stdin to its end, which never comes.
		{"Send", winrmtest.Fault{Subcode: "w:InternalError", Code: 2150858843, Message: "The request for the Windows Remote Shell failed."},
			"send stdin: ws-management fault", true},
	} {
		t.Run(tc.op, func(t *testing.T) {
			srv := winrmtest.NewServer(t, winrmtest.Options{Password: password})
			c := dial(t, hostFor(t, srv, ""))
			srv.InjectFault(tc.op, tc.fault)
			var out bytes.Buffer
			err := c.Run(t.Context(), &transports.Cmd{Command: transporttest.PSCat, Stdout: &out})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Run = %v, want error containing %q", err, tc.wantErr)
			}
			var ee *transports.ExitError
			if errors.As(err, &ee) {
				t.Errorf("a fault became an exit status: %v", err)
			}
			if got := errors.Is(err, transports.ErrConnectionLost); got != tc.lost {
				t.Errorf("errors.Is(err, ErrConnectionLost) = %v, want %v", got, tc.lost)
			}
			if srv.OpenShells() != 0 {
				t.Errorf("%d shells left open after the fault", srv.OpenShells())
			}
		})
	}
}

// TestCancelSignalsAndDeletes checks the host sees the command terminated
// and its shell deleted, and that Run returns ctx's error.
func TestCancelSignalsAndDeletes(t *testing.T) {
	host := winrmtest.NewHost()
	started := make(chan struct{})
	stopped := make(chan struct{})
	host.Handle("Wait-Forever", func(ctx context.Context, _ string, _ io.Reader, stdout, _ io.Writer) int {
		close(started)
		<-ctx.Done() // only a terminate signal or a shell delete ends it
		close(stopped)
		return 0
	})
	srv := winrmtest.NewServer(t, winrmtest.Options{Password: password, Handler: host})
	c := dial(t, hostFor(t, srv, ""))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, &transports.Cmd{Command: "Wait-Forever"}) }()
	<-started
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	<-stopped
	var cmdShell string
	var signalled, deleted bool
	for _, e := range srv.Events() {
		switch {
		case e.Op == "Command" && !e.Fault:
			cmdShell = e.ShellID
		case e.Op == "Signal" && e.ShellID == cmdShell:
			signalled = strings.HasSuffix(e.Detail, "/signal/terminate")
		case e.Op == "Delete" && e.ShellID == cmdShell && signalled:
			deleted = true
		}
	}
	if !signalled || !deleted {
		t.Errorf("terminate signal sent %v, then shell deleted %v; events %+v", signalled, deleted, srv.Events())
	}
	if srv.OpenShells() != 0 {
		t.Errorf("%d shells left open", srv.OpenShells())
	}
}

// TestLongSilentCommand runs a command that stays silent through several
// OperationTimeouts, longer in total than the HTTP timeout: each Receive
// must end in a w:TimedOut fault that the transport polls through.
func TestLongSilentCommand(t *testing.T) {
	host := winrmtest.NewHost()
	var srv *winrmtest.Server
	const rounds = 4
	host.Handle("Start-LongInstall", func(ctx context.Context, _ string, _ io.Reader, stdout, _ io.Writer) int {
		timeouts := 0
		_, err := srv.WaitEvent(ctx, func(e winrmtest.Event) bool {
			if e.Op == "Receive" && e.Detail == "timeout" {
				timeouts++
			}
			return timeouts == rounds
		})
		if err != nil {
			return 2
		}
		io.WriteString(stdout, "installed")
		return 0
	})
	srv = winrmtest.NewServer(t, winrmtest.Options{Password: password, Handler: host})
	h := hostFor(t, srv, "")
	h.WinRM.Timeout = 1 * time.Second
	h.WinRM.OperationTimeout = 300 * time.Millisecond
	c := dial(t, h)
	var out bytes.Buffer
	start := time.Now()
	if err := c.Run(t.Context(), &transports.Cmd{Command: "Start-LongInstall", Stdout: &out}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if out.String() != "installed" {
		t.Errorf("stdout %q", out.String())
	}
	if d := time.Since(start); d < h.WinRM.Timeout {
		t.Errorf("command took %v, not longer than the HTTP timeout %v: the test proves nothing", d, h.WinRM.Timeout)
	}
}

func TestCommandTimeout(t *testing.T) {
	host := winrmtest.NewHost()
	host.Handle("Wait-Forever", func(ctx context.Context, _ string, _ io.Reader, _, _ io.Writer) int {
		<-ctx.Done()
		return 0
	})
	srv := winrmtest.NewServer(t, winrmtest.Options{Password: password, Handler: host})
	h := hostFor(t, srv, "")
	h.WinRM.CommandTimeout = 200 * time.Millisecond
	c := dial(t, h)
	err := c.Run(t.Context(), &transports.Cmd{Command: "Wait-Forever"})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "command_timeout of 200ms exceeded") {
		t.Fatalf("Run = %v, want DeadlineExceeded naming command_timeout", err)
	}
}

// TestLongScriptOverStdin sends a script longer than a command line may
// be, together with stdin for the script itself.
func TestLongScriptOverStdin(t *testing.T) {
	host := winrmtest.NewHost()
	long := "# " + strings.Repeat("padding ", 2000) + "\nGet-Input"
	host.Handle(long, func(_ context.Context, _ string, stdin io.Reader, stdout, _ io.Writer) int {
		b, _ := io.ReadAll(stdin)
		stdout.Write(b)
		return 7
	})
	srv := winrmtest.NewServer(t, winrmtest.Options{Password: password, Handler: host})
	c := dial(t, hostFor(t, srv, ""))
	var out bytes.Buffer
	err := c.Run(t.Context(), &transports.Cmd{Command: long, Stdin: strings.NewReader("payload"), Stdout: &out})
	var ee *transports.ExitError
	if !errors.As(err, &ee) || ee.Status != 7 || ee.Command != long {
		t.Fatalf("Run = %v, want exit status 7 for the long command", err)
	}
	if out.String() != "payload" {
		t.Errorf("stdout %q, want the stdin that followed the script", out.String())
	}
}

// TestPowerShellErrors checks that an unknown command fails (never silent
// success) and that CLIXML error records reach the caller as text.
func TestPowerShellErrors(t *testing.T) {
	host := winrmtest.NewHost()
	host.Handle("Write-Warning 'disk'", func(_ context.Context, _ string, _ io.Reader, _, stderr io.Writer) int {
		io.WriteString(stderr, `#< CLIXML`+"\r\n"+`<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T></TN><MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules for first use.</AV></PR></MS></Obj><S S="Warning">disk almost full_x000D__x000A_</S></Objs>`)
		return 0
	})
	srv := winrmtest.NewServer(t, winrmtest.Options{Password: password, Handler: host})
	c := dial(t, hostFor(t, srv, ""))

	var errOut bytes.Buffer
	err := c.Run(t.Context(), &transports.Cmd{Command: "Restart-Everything -Now", Stderr: &errOut})
	var ee *transports.ExitError
	if !errors.As(err, &ee) || ee.Status != 1 {
		t.Fatalf("unknown command: Run = %v, want exit status 1", err)
	}
	if !strings.Contains(errOut.String(), "The term 'Restart-Everything' is not recognized") {
		t.Errorf("stderr %q", errOut.String())
	}

	errOut.Reset()
	if err := c.Run(t.Context(), &transports.Cmd{Command: "Write-Warning 'disk'", Stderr: &errOut}); err != nil {
		t.Fatal(err)
	}
	if got := errOut.String(); got != "WARNING: disk almost full\r\n" {
		t.Errorf("stderr %q, want the decoded warning", got)
	}
}

func TestBecomeRefused(t *testing.T) {
	srv := winrmtest.NewServer(t, winrmtest.Options{Password: password})
	c := dial(t, hostFor(t, srv, ""))
	err := c.Run(t.Context(), &transports.Cmd{Command: "[Console]::Out.Write('x')", Become: true})
	if err == nil || !strings.Contains(err.Error(), "become is not supported") {
		t.Fatalf("Run with Become = %v", err)
	}
}

func TestDialer(t *testing.T) {
	srv := winrmtest.NewServer(t, winrmtest.Options{Password: password})
	d := &winrm.Dialer{Options: winrm.Options{Warn: func(string) {}}}
	c, err := d.Dial(t.Context(), hostFor(t, srv, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Shell() != "powershell" {
		t.Errorf("Shell() = %q", c.Shell())
	}
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHostGoesAway: the server disappears while a command runs (a reboot):
// Run reports ErrConnectionLost, not an exit status.
func TestHostGoesAway(t *testing.T) {
	host := winrmtest.NewHost()
	started := make(chan struct{})
	host.Handle("Wait-Forever", func(ctx context.Context, _ string, _ io.Reader, _, _ io.Writer) int {
		close(started)
		<-ctx.Done()
		return 0
	})
	srv := winrmtest.NewServer(t, winrmtest.Options{Password: password, Handler: host})
	c := dial(t, hostFor(t, srv, ""))
	done := make(chan error, 1)
	go func() { done <- c.Run(t.Context(), &transports.Cmd{Command: "Wait-Forever"}) }()
	<-started
	srv.Close()
	err := <-done
	if !errors.Is(err, transports.ErrConnectionLost) {
		t.Fatalf("Run = %v, want ErrConnectionLost", err)
	}
	var ee *transports.ExitError
	if errors.As(err, &ee) {
		t.Errorf("lost connection reported as exit status: %v", err)
	}
}

// blockingSource yields n bytes, then blocks until the test ends.
type blockingSource struct {
	n       int
	reached chan struct{}
	block   <-chan struct{}
}

func (b *blockingSource) Read(p []byte) (int, error) {
	if b.n == 0 {
		close(b.reached)
		<-b.block
		return 0, io.ErrClosedPipe
	}
	k := min(len(p), b.n)
	b.n -= k
	return k, nil
}

// TestCancelledUploadClosesStdin: a cancelled upload ends the script's
// input without a digest, so scripts/upload.ps1 removes its temporary file
// itself, rather than being killed half-way through writing it.
func TestCancelledUploadClosesStdin(t *testing.T) {
	srv := winrmtest.NewServer(t, winrmtest.Options{Password: password})
	c := dial(t, hostFor(t, srv, ""))
	testDone := make(chan struct{})
	defer close(testDone)
	src := &blockingSource{n: 300 << 10, reached: make(chan struct{}), block: testDone}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- c.Upload(ctx, transports.Upload{Src: src, Size: 1 << 20, Dst: `C:\osrun\f.bin`})
	}()
	<-src.reached
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Upload = %v, want context.Canceled", err)
	}
	var ends, signals, deletes int
	for _, e := range srv.Events() {
		switch {
		case e.Op == "Send" && e.Detail == "end":
			ends++
		case e.Op == "Signal":
			signals++
		case e.Op == "Delete":
			deletes++
		}
	}
	// The probe's shell is deleted too.
	if ends != 1 || signals != 0 || deletes != 2 {
		t.Errorf("%d stdin ends, %d signals, %d deletes; want 1, 0, 2: %+v", ends, signals, deletes, srv.Events())
	}
	if srv.OpenShells() != 0 {
		t.Errorf("%d shells left open", srv.OpenShells())
	}
}

// TestOldServerEnvelopeLimit: Windows Server 2008 R2 accepts requests of at
// most 150 KiB; stdin must be sent in pieces that fit.
func TestOldServerEnvelopeLimit(t *testing.T) {
	srv := winrmtest.NewServer(t, winrmtest.Options{Password: password, MaxEnvelopeSize: 150 << 10})
	c := dial(t, hostFor(t, srv, ""))
	data := bytes.Repeat([]byte("0123456789"), 100_000)
	if err := c.Upload(t.Context(), transports.Upload{Src: bytes.NewReader(data), Size: int64(len(data)), Dst: `C:\osrun\big.bin`}); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	for _, e := range srv.Events() {
		if e.Detail == "w:EncodingLimit" {
			t.Fatal("a request exceeded the server's MaxEnvelopeSize")
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestFailingWriterStopsCommand(t *testing.T) {
	srv := winrmtest.NewServer(t, winrmtest.Options{Password: password})
	c := dial(t, hostFor(t, srv, ""))
	err := c.Run(t.Context(), &transports.Cmd{Command: transporttest.PSLarge(1000), Stdout: failingWriter{}})
	if err == nil || !strings.Contains(err.Error(), "write stdout: disk full") || errors.Is(err, transports.ErrConnectionLost) {
		t.Fatalf("Run = %v, want the writer's error", err)
	}
	if srv.OpenShells() != 0 {
		t.Errorf("%d shells left open", srv.OpenShells())
	}
}

// TestHostReboots: the host restarts while a command runs. Run reports
// ErrConnectionLost; the next Run, in a new shell, works.
func TestHostReboots(t *testing.T) {
	host := winrmtest.NewHost()
	started := make(chan struct{}, 1)
	host.Handle("Wait-Forever", func(ctx context.Context, _ string, _ io.Reader, _, _ io.Writer) int {
		started <- struct{}{}
		<-ctx.Done()
		return 0
	})
	srv := winrmtest.NewServer(t, winrmtest.Options{Password: password, Handler: host})
	c := dial(t, hostFor(t, srv, ""))
	done := make(chan error, 1)
	go func() { done <- c.Run(t.Context(), &transports.Cmd{Command: "Wait-Forever"}) }()
	<-started
	srv.Reboot()
	if err := <-done; !errors.Is(err, transports.ErrConnectionLost) {
		t.Fatalf("Run across a reboot = %v, want ErrConnectionLost", err)
	}
	var out bytes.Buffer
	if err := c.Run(t.Context(), &transports.Cmd{Command: "[Console]::Out.Write('back')", Stdout: &out}); err != nil || out.String() != "back" {
		t.Fatalf("Run after the reboot: %v, stdout %q", err, out.String())
	}
}
