package winrmbench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	lib "github.com/masterzen/winrm"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/transports"
	osrunwinrm "github.com/osrun/osrun/transports/winrm"
	"github.com/osrun/osrun/transports/winrm/winrmtest"
)

const (
	payloadSize = 2 << 20
	dst         = `C:\OutSystems\PlatformServer-11.31.exe`
	password    = "bench-password"
)

// counter counts the bytes both ways on every connection it dials: the
// HTTP requests and responses, TLS included.
type counter struct{ n atomic.Int64 }

type countedConn struct {
	net.Conn
	c *counter
}

func (cc countedConn) Read(p []byte) (int, error) {
	n, err := cc.Conn.Read(p)
	cc.c.n.Add(int64(n))
	return n, err
}

func (cc countedConn) Write(p []byte) (int, error) {
	n, err := cc.Conn.Write(p)
	cc.c.n.Add(int64(n))
	return n, err
}

func (c *counter) dial(network, addr string) (net.Conn, error) {
	conn, err := net.Dial(network, addr)
	if err != nil {
		return nil, err
	}
	return countedConn{conn, c}, nil
}

// server is the same fake for both methods: winrmtest's simulated host,
// taught the baseline's cmd.exe "echo >>" and restore script.
func server(tb testing.TB, latency time.Duration) (*winrmtest.Server, *baselineHost) {
	tb.Helper()
	h := &baselineHost{Host: winrmtest.NewHost()}
	h.HandleMatch(func(s string) bool { return strings.Contains(s, restoreMarker) }, h.restore)
	srv := winrmtest.NewServer(tb, winrmtest.Options{Password: password, Handler: h, Latency: latency})
	return srv, h
}

// latencies: the loopback, and a LAN-like 1 ms per request.
var latencies = []time.Duration{0, time.Millisecond}

func payload(tb testing.TB) ([]byte, string) {
	b := make([]byte, payloadSize)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:])
}

func BenchmarkUpload(b *testing.B) {
	data, sum := payload(b)
	for _, lat := range latencies {
		b.Run(fmt.Sprintf("latency=%v/osrun-stdin-stream", lat), func(b *testing.B) {
			srv, host := server(b, lat)
			var wire counter
			conn := dialOsrun(b, srv, &wire)
			wire.n.Store(0)
			before := len(srv.Events())
			b.SetBytes(payloadSize)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := conn.Upload(b.Context(), transports.Upload{Src: bytes.NewReader(data), Size: payloadSize, Dst: dst}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			check(b, host, sum)
			report(b, srv, &wire, before)
		})
		b.Run(fmt.Sprintf("latency=%v/winrmcp-chunked-echo", lat), func(b *testing.B) {
			srv, host := server(b, lat)
			var wire counter
			c := baselineClient(b, srv, &wire)
			before := len(srv.Events())
			b.SetBytes(payloadSize)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := chunkedUpload(c, data, dst); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			check(b, host, sum)
			report(b, srv, &wire, before)
		})
	}
}

// report adds the bytes on the wire per payload byte and the WS-Man
// requests per upload: on a real network each request costs a round trip.
func report(b *testing.B, srv *winrmtest.Server, wire *counter, before int) {
	b.ReportMetric(float64(wire.n.Load())/float64(b.N)/payloadSize, "wire-B/payload-B")
	b.ReportMetric(float64(len(srv.Events())-before)/float64(b.N), "requests/op")
}

// TestBaselineCorrect keeps the baseline honest: it must deliver the file.
func TestBaselineCorrect(t *testing.T) {
	srv, host := server(t, 0)
	data := []byte(strings.Repeat("osrun ", 5000))
	sum := sha256.Sum256(data)
	var wire counter
	if err := chunkedUpload(baselineClient(t, srv, &wire), data, dst); err != nil {
		t.Fatal(err)
	}
	check(t, host, hex.EncodeToString(sum[:]))
}

func check(tb testing.TB, h *baselineHost, sum string) {
	tb.Helper()
	got, ok := h.ReadFile(dst)
	if !ok {
		tb.Fatal("no file uploaded")
	}
	s := sha256.Sum256(got)
	if hex.EncodeToString(s[:]) != sum {
		tb.Fatal("uploaded file differs")
	}
}

func dialOsrun(tb testing.TB, srv *winrmtest.Server, wire *counter) *osrunwinrm.Conn {
	tb.Helper()
	ca := filepath.Join(tb.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.CAPEM, 0o600); err != nil {
		tb.Fatal(err)
	}
	h := &inventory.Host{Name: "fe01", Address: srv.Host, WinRM: inventory.WinRMSettings{
		Port: srv.Port, Auth: "ntlm", User: srv.User, Password: secret.New(password, "bench"), CAFile: ca,
	}}
	c, err := osrunwinrm.Dial(context.Background(), h, osrunwinrm.Options{Dial: wire.dial})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// The baseline, as packer-community/winrmcp does it: each chunk is one
// cmd.exe "echo <base64> >> tempfile" command, sized to stay under the
// 8 KB command line, with a new shell every 15 commands; then a PowerShell
// script decodes the temp file into place.

const maxOperationsPerShell = 15

const restoreMarker = "# bench:restore"

func baselineClient(tb testing.TB, srv *winrmtest.Server, wire *counter) *lib.Client {
	tb.Helper()
	ep := lib.NewEndpoint(srv.Host, srv.Port, true, false, srv.CAPEM, nil, nil, 60*time.Second)
	params := *lib.DefaultParameters
	params.TransportDecorator = func() lib.Transporter { return lib.NewClientNTLMWithDial(wire.dial) }
	c, err := lib.NewClientWithParameters(ep, srv.User, password, &params)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func chunkedUpload(c *lib.Client, data []byte, dst string) error {
	tmp := `%TEMP%\winrmcp-0123456789abcdef.tmp`
	chunk := ((8000 - len(tmp)) / 4) * 3
	var shell *lib.Shell
	ops := 0
	for off := 0; off < len(data); off += chunk {
		if shell == nil || ops == maxOperationsPerShell {
			if shell != nil {
				shell.Close()
			}
			var err error
			if shell, err = c.CreateShell(); err != nil {
				return err
			}
			ops = 0
		}
		end := min(off+chunk, len(data))
		line := fmt.Sprintf(`echo %s >> "%s"`, base64.StdEncoding.EncodeToString(data[off:end]), tmp)
		cmd, err := shell.Execute(line)
		if err != nil {
			return err
		}
		go io.Copy(io.Discard, cmd.Stdout)
		go io.Copy(io.Discard, cmd.Stderr)
		cmd.Wait()
		cmd.Close()
		if cmd.ExitCode() != 0 {
			return fmt.Errorf("chunk at %d: exit %d", off, cmd.ExitCode())
		}
		ops++
	}
	if shell != nil {
		shell.Close()
	}
	restore := fmt.Sprintf("%s\n$tmp = '%s'\n$dst = '%s'\n"+
		"$out = [IO.File]::Create($dst); foreach ($l in Get-Content $tmp) { $b = [Convert]::FromBase64String($l); $out.Write($b, 0, $b.Length) }; $out.Close(); Remove-Item $tmp",
		restoreMarker, tmp, dst)
	_, stderr, code, err := c.RunWithString(lib.Powershell(restore), "")
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("restore: exit %d: %s", code, stderr)
	}
	return nil
}

// baselineHost plays cmd.exe's echo-append and the restore script.
type baselineHost struct {
	*winrmtest.Host
}

var echoRe = regexp.MustCompile(`^echo (\S+) >> "(.+)"$`)

func (h *baselineHost) RunCmd(_ context.Context, line string, _ io.Reader, _, stderr io.Writer) int {
	m := echoRe.FindStringSubmatch(line)
	if m == nil {
		fmt.Fprintf(stderr, "unexpected command line %.60q\r\n", line)
		return 1
	}
	h.AppendFile(m[2], []byte(m[1]+"\r\n"))
	return 0
}

var assignRe = regexp.MustCompile(`(?m)^\$(tmp|dst) = '(.*)'$`)

func (h *baselineHost) restore(_ context.Context, script string, _ io.Reader, _, stderr io.Writer) int {
	vars := map[string]string{}
	for _, m := range assignRe.FindAllStringSubmatch(script, -1) {
		vars[m[1]] = m[2]
	}
	lines, ok := h.ReadFile(vars["tmp"])
	if !ok {
		fmt.Fprintf(stderr, "no temp file %s\r\n", vars["tmp"])
		return 1
	}
	var out []byte
	sc := bufio.NewScanner(bytes.NewReader(lines))
	sc.Buffer(make([]byte, 16<<10), 16<<10)
	for sc.Scan() {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sc.Text()))
		if err != nil {
			fmt.Fprintf(stderr, "%v\r\n", err)
			return 1
		}
		out = append(out, b...)
	}
	h.WriteFile(vars["dst"], out)
	h.Remove(vars["tmp"])
	return 0
}
