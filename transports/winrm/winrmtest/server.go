package winrmtest

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Handler runs one command on behalf of the server. script is the decoded
// PowerShell script; stdin yields what the client sends until it signals
// end of input. The returned value is the command's exit code. ctx is
// cancelled when the client terminates the command or deletes its shell.
type Handler interface {
	Run(ctx context.Context, script string, stdin io.Reader, stdout, stderr io.Writer) (exitCode int)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, script string, stdin io.Reader, stdout, stderr io.Writer) int

// Run calls f.
func (f HandlerFunc) Run(ctx context.Context, script string, stdin io.Reader, stdout, stderr io.Writer) int {
	return f(ctx, script, stdin, stdout, stderr)
}

// CmdHandler is implemented by handlers that also run cmd.exe command lines
// (anything that is not powershell -EncodedCommand). Without it such a
// command fails the way cmd.exe fails on an unknown program.
type CmdHandler interface {
	RunCmd(ctx context.Context, commandLine string, stdin io.Reader, stdout, stderr io.Writer) (exitCode int)
}

// Auth methods the server accepts.
const (
	AuthBasic       = "basic"
	AuthNTLM        = "ntlm"
	AuthCertificate = "certificate"
)

// Options configure a Server. The zero value serves HTTPS with Basic and
// NTLM for user "Administrator".
type Options struct {
	// HTTP serves plain HTTP instead of TLS.
	HTTP bool
	// Auth lists accepted methods; default basic and ntlm.
	Auth []string
	// User is the account name, bare ("Administrator"), DOMAIN\user or
	// user@domain: NTLM clients may present any of the three forms.
	User     string
	Password string
	// ReceiveChunk caps the bytes of each stream returned per Receive, so a
	// client sees partial streams over several rounds. Default 256 KiB.
	ReceiveChunk int
	// MaxCommandLine is the longest command line accepted (cmd.exe's limit,
	// 8191, by default); longer ones fault as Windows does.
	MaxCommandLine int
	// MaxEnvelopeSize is the largest request accepted, in bytes
	// (MaxEnvelopeSizekb × 1024): 512000 by default as on Windows Server
	// 2012 and later; 153600 reproduces 2008 R2.
	MaxEnvelopeSize int
	// MaxOperationTimeout caps the OperationTimeout a client may ask for.
	MaxOperationTimeout time.Duration
	// Latency delays every answer, to model a network round trip (the
	// loopback has none, which flatters chatty clients).
	Latency time.Duration
	// Handler runs commands; nil means a Host with no scripts.
	Handler Handler
}

// Event is one WS-Management operation the server answered.
type Event struct {
	Op        string // Create, Command, Send, Receive, Signal, Delete; Reboot
	ShellID   string
	CommandID string
	// Detail: the signal code for Signal, "timeout" for a Receive that
	// timed out, "done" for the Receive that reported CommandState/Done,
	// "end" for the Send that closed stdin, the fault subcode on faults.
	Detail string
	Fault  bool
}

// Fault is a SOAP fault the server can be told to return.
type Fault struct {
	Status  int    // HTTP status, 500 by default
	Subcode string // e.g. "w:InternalError"
	Code    uint32 // WSManFault code
	Message string
}

// Server is a running WS-Management endpoint.
type Server struct {
	URL      string // https://127.0.0.1:PORT/wsman
	Host     string
	Port     int
	CAPEM    []byte // the CA that signed the server certificate (TLS only)
	User     string
	Password string

	ca   *authority
	opts Options
	hs   *httptest.Server

	mu       sync.Mutex
	shells   map[string]*shell
	events   []Event // the most recent maxEvents
	dropped  int     // events discarded before events[0]
	faults   map[string][]Fault
	notify   chan struct{}
	closed   bool
	handler  Handler
	wg       sync.WaitGroup
	baseCtx  context.Context
	stopProc context.CancelFunc
}

// NewServer starts a server and closes it when the test ends.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("winrmtest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a server on 127.0.0.1 on a free port.
func Start(opts Options) (*Server, error) {
	if opts.User == "" {
		opts.User = "Administrator"
	}
	if len(opts.Auth) == 0 {
		opts.Auth = []string{AuthBasic, AuthNTLM}
	}
	if opts.ReceiveChunk <= 0 {
		opts.ReceiveChunk = 256 << 10
	}
	if opts.MaxCommandLine <= 0 {
		opts.MaxCommandLine = 8191
	}
	if opts.MaxEnvelopeSize <= 0 {
		opts.MaxEnvelopeSize = 500 << 10
	}
	if opts.MaxOperationTimeout <= 0 {
		opts.MaxOperationTimeout = 60 * time.Second
	}
	h := opts.Handler
	if h == nil {
		h = NewHost()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		User:     opts.User,
		Password: opts.Password,
		opts:     opts,
		shells:   map[string]*shell{},
		faults:   map[string][]Fault{},
		notify:   make(chan struct{}),
		handler:  h,
		baseCtx:  ctx,
		stopProc: cancel,
	}
	hs := httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	// Refused handshakes are what TLS tests provoke; not worth a log line.
	hs.Config.ErrorLog = log.New(io.Discard, "", 0)
	hs.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, &connState{})
	}
	if opts.HTTP {
		hs.Start()
	} else {
		ca, err := newAuthority()
		if err != nil {
			cancel()
			return nil, err
		}
		leaf, err := ca.serverCert()
		if err != nil {
			cancel()
			return nil, err
		}
		s.ca = ca
		s.CAPEM = ca.certPEM
		pool := x509.NewCertPool()
		pool.AddCert(ca.cert)
		hs.TLS = &tls.Config{
			Certificates: []tls.Certificate{leaf},
			ClientAuth:   tls.VerifyClientCertIfGiven,
			ClientCAs:    pool,
			MinVersion:   tls.VersionTLS12,
		}
		hs.StartTLS()
	}
	s.hs = hs
	u, err := url.Parse(hs.URL)
	if err != nil {
		hs.Close()
		cancel()
		return nil, err
	}
	s.Host = u.Hostname()
	s.Port, _ = strconv.Atoi(u.Port())
	s.URL = hs.URL + "/wsman"
	return s, nil
}

// Close stops the server, terminating every running command.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for _, sh := range s.shells {
		for _, c := range sh.cmds {
			c.terminate()
		}
	}
	s.mu.Unlock()
	s.stopProc()
	s.hs.CloseClientConnections()
	s.hs.Close()
	s.wg.Wait()
}

// Reboot simulates the host restarting while the server keeps its address:
// every command is terminated, every shell forgotten (later requests for
// them get the shell-not-found fault Windows sends after a restart) and
// every client connection dropped.
func (s *Server) Reboot() {
	s.mu.Lock()
	for id, sh := range s.shells {
		sh.lost.Store(true)
		for _, c := range sh.cmds {
			c.terminate()
		}
		delete(s.shells, id)
	}
	s.recordLocked(Event{Op: "Reboot"})
	s.mu.Unlock()
	s.hs.CloseClientConnections()
}

// ClientCertificate issues a client certificate signed by the server's CA,
// PEM-encoded, for the certificate auth method.
func (s *Server) ClientCertificate(commonName string) (certPEM, keyPEM []byte, err error) {
	if s.ca == nil {
		return nil, nil, errors.New("client certificates need a TLS server")
	}
	return s.ca.clientCert(commonName)
}

// maxEvents bounds the log, so a long-lived lab server does not grow
// without limit.
const maxEvents = 100_000

// Events returns a copy of the operations answered so far (the most
// recent 100,000).
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// WaitEvent blocks until an event matching ok has been recorded (events
// already in the log count), or ctx ends. ok sees each event once, with the
// server locked: it must not call the Server.
func (s *Server) WaitEvent(ctx context.Context, ok func(Event) bool) (Event, error) {
	seen := 0
	for {
		s.mu.Lock()
		seen = max(seen, s.dropped)
		for ; seen < s.dropped+len(s.events); seen++ {
			if e := s.events[seen-s.dropped]; ok(e) {
				s.mu.Unlock()
				return e, nil
			}
		}
		ch := s.notify
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

// InjectFault makes the next request for op (Create, Command, Send,
// Receive, Signal, Delete) fail with f instead of being processed.
func (s *Server) InjectFault(op string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = append(s.faults[op], f)
}

// OpenShells reports how many shells exist (created and not deleted).
func (s *Server) OpenShells() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.shells)
}

func (s *Server) record(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordLocked(e)
}

func (s *Server) recordLocked(e Event) {
	if len(s.events) == maxEvents {
		n := maxEvents / 10
		s.events = append(s.events[:0], s.events[n:]...)
		s.dropped += n
	}
	s.events = append(s.events, e)
	close(s.notify)
	s.notify = make(chan struct{})
}

type connKey struct{}

// connState is per TCP connection: NTLM authenticates a connection, not a
// request, as HTTP.sys does.
type connState struct {
	mu            sync.Mutex
	authenticated bool
	challenge     []byte
}

func (s *Server) accepts(method string) bool {
	for _, m := range s.opts.Auth {
		if m == method {
			return true
		}
	}
	return false
}

// authenticate reports whether r may proceed; when not, it has written the
// response (a 401 with no body, or an NTLM challenge).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) bool {
	cs, _ := r.Context().Value(connKey{}).(*connState)
	if cs == nil {
		cs = &connState{}
	}
	cs.mu.Lock()
	authed := cs.authenticated
	cs.mu.Unlock()
	if authed {
		return true
	}
	h := r.Header.Get("Authorization")
	switch {
	case s.accepts(AuthCertificate) && r.TLS != nil && len(r.TLS.PeerCertificates) > 0 &&
		h == "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual":
		// The TLS layer verified the chain against our CA already.
		return true
	case s.accepts(AuthBasic) && strings.HasPrefix(h, "Basic "):
		u, p, ok := r.BasicAuth()
		if ok && sameUser(u, s.opts.User) &&
			subtle.ConstantTimeCompare([]byte(p), []byte(s.opts.Password)) == 1 {
			return true
		}
	case s.accepts(AuthNTLM) && (strings.HasPrefix(h, "Negotiate ") || strings.HasPrefix(h, "NTLM ")):
		scheme, token, _ := strings.Cut(h, " ")
		done, challenge, err := s.ntlmStep(cs, token)
		if err == nil && done {
			return true
		}
		if err == nil && challenge != "" {
			w.Header().Set("WWW-Authenticate", scheme+" "+challenge)
			w.WriteHeader(http.StatusUnauthorized)
			return false
		}
	}
	if s.accepts(AuthNTLM) {
		w.Header().Add("WWW-Authenticate", "Negotiate")
	}
	if s.accepts(AuthBasic) {
		w.Header().Add("WWW-Authenticate", `Basic realm="WSMAN"`)
	}
	// Windows answers 401 without a SOAP body; clients must not mistake
	// it for a WS-Management fault.
	w.WriteHeader(http.StatusUnauthorized)
	return false
}

// sameUser compares account names ignoring a DOMAIN\ prefix, an @domain
// suffix and case, as Windows resolves all three to one account.
func sameUser(a, b string) bool {
	return strings.EqualFold(bareUser(a), bareUser(b))
}

func bareUser(u string) string {
	if _, after, ok := strings.Cut(u, `\`); ok {
		u = after
	}
	if before, _, ok := strings.Cut(u, "@"); ok {
		u = before
	}
	return u
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/wsman" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if s.opts.Latency > 0 {
		t := time.NewTimer(s.opts.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if !s.authenticate(w, r) {
		_, _ = io.Copy(io.Discard, r.Body)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(s.opts.MaxEnvelopeSize)+1))
	if err != nil {
		return
	}
	if len(body) > s.opts.MaxEnvelopeSize {
		s.record(Event{Op: "?", Detail: "w:EncodingLimit", Fault: true})
		writeFault(w, "", Fault{Subcode: "w:EncodingLimit", Code: 2150858780,
			Message: "The WS-Management service cannot process the request because the request packet is larger than the maximum envelope size."})
		return
	}
	env, err := parseEnvelope(body)
	if err != nil {
		writeFault(w, "", Fault{Subcode: "w:SchemaValidationError", Code: 2150858817, Message: "The SOAP XML in the message does not match the corresponding XML schema definition: " + err.Error()})
		return
	}
	s.dispatch(w, r, env)
}

// operationTimeout parses the xs:duration the client sent (PT60S,
// PT0.500S, PT1M30S), capped by the server's maximum.
func (s *Server) operationTimeout(v string) time.Duration {
	d, err := parseDuration(v)
	if err != nil || d <= 0 || d > s.opts.MaxOperationTimeout {
		return s.opts.MaxOperationTimeout
	}
	return d
}

func parseDuration(v string) (time.Duration, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(v), "PT")
	if !ok || rest == "" {
		return 0, fmt.Errorf("unsupported duration %q", v)
	}
	var total time.Duration
	for rest != "" {
		i := strings.IndexAny(rest, "HMS")
		if i <= 0 {
			return 0, fmt.Errorf("bad duration %q", v)
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q", v)
		}
		unit := map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second}[rest[i]]
		total += time.Duration(n * float64(unit))
		rest = rest[i+1:]
	}
	return total, nil
}
