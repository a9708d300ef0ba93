package winrmtest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
)

// Markers osrun's transport puts in the scripts it sends (see the .ps1
// templates in package winrm). Host recognises them to play the part of
// PowerShell; transports/winrm's tests check that they stay in sync.
const (
	MarkerBegin     = "# osrun:begin"
	MarkerEnd       = "# osrun:end"
	MarkerStdin     = "# osrun:stdin-script"
	MarkerUpload    = "# osrun:upload"
	MarkerChecksum  = "# osrun:sha256"
	ChecksumTrailer = "sha256:"
)

// Host is a Handler that simulates the PowerShell side of a Windows host:
// it unwraps osrun's wrapper scripts, performs uploads and checksum queries
// against an in-memory file system, and runs the scripts registered with
// Handle. Any other script fails the way PowerShell fails on an unknown
// command: an error on stderr and exit code 1.
type Host struct {
	mu      sync.Mutex
	files   map[string]file   // keyed by lower-case path: NTFS ignores case
	dirs    map[string]string // lower-case path to path
	pids    map[int]bool
	nextPID int
	scripts []route
}

type file struct {
	name string
	data []byte
}

type route struct {
	match func(script string) bool
	h     Handler
}

// NewHost returns a Host with an empty file system and no scripts.
func NewHost() *Host {
	return &Host{files: map[string]file{}, dirs: map[string]string{}, pids: map[int]bool{}, nextPID: 4000}
}

// Handle registers h for scripts equal to script (surrounding blank space
// ignored). Later registrations win.
func (h *Host) Handle(script string, fn HandlerFunc) {
	want := strings.TrimSpace(script)
	h.HandleMatch(func(s string) bool { return strings.TrimSpace(s) == want }, fn)
}

// HandleMatch registers fn for scripts accepted by match.
func (h *Host) HandleMatch(match func(script string) bool, fn HandlerFunc) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.scripts = append(h.scripts, route{match, fn})
}

// WriteFile stores a file as if it were on the host's disk.
func (h *Host) WriteFile(path string, data []byte) {
	h.mkdir(parentDir(path))
	h.mu.Lock()
	defer h.mu.Unlock()
	h.files[strings.ToLower(path)] = file{name: path, data: append([]byte(nil), data...)}
}

// AppendFile appends to a file, creating it if needed.
func (h *Host) AppendFile(path string, data []byte) {
	h.mkdir(parentDir(path))
	h.mu.Lock()
	defer h.mu.Unlock()
	key := strings.ToLower(path)
	f, ok := h.files[key]
	if !ok {
		f.name = path
	}
	f.data = append(f.data, data...)
	h.files[key] = f
}

// Remove deletes a file or a directory tree.
func (h *Host) Remove(path string) { h.removeAll(path) }

// ReadFile returns a file's content.
func (h *Host) ReadFile(path string) ([]byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f, ok := h.files[strings.ToLower(path)]
	return append([]byte(nil), f.data...), ok
}

// Files lists the stored paths (lower-cased).
func (h *Host) Files() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for p := range h.files {
		out = append(out, p)
	}
	return out
}

// Run implements Handler.
func (h *Host) Run(ctx context.Context, script string, stdin io.Reader, stdout, stderr io.Writer) int {
	h.mu.Lock()
	h.nextPID += 4
	pid := h.nextPID
	h.pids[pid] = true
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.pids, pid)
		h.mu.Unlock()
	}()
	p := &proc{ctx: ctx, pid: pid, stdin: bufio.NewReader(stdin), stdout: stdout, stderr: stderr}
	return h.run(p, script, false)
}

func (h *Host) run(p *proc, script string, wrapped bool) int {
	ctx, stdin, stdout, stderr := p.ctx, p.stdin, p.stdout, p.stderr
	trimmed := strings.TrimLeft(script, "\r\n\t \ufeff")
	switch {
	case strings.HasPrefix(trimmed, MarkerStdin):
		line, err := stdin.ReadString('\n')
		if err != nil && line == "" {
			return psError(stderr, wrapped, "Exception calling \"FromBase64String\" with \"1\" argument(s): \"Value cannot be null.\"")
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(line))
		if err != nil {
			return psError(stderr, wrapped, "Exception calling \"FromBase64String\" with \"1\" argument(s): \"The input is not a valid Base-64 string.\"")
		}
		return h.run(p, string(raw), wrapped)
	case strings.HasPrefix(trimmed, MarkerUpload):
		return h.upload(script, stdin, stdout, stderr)
	case strings.HasPrefix(trimmed, MarkerChecksum):
		return h.checksum(script, stdout, stderr)
	}
	if b := strings.Index(script, MarkerBegin+"\n"); b >= 0 {
		if e := strings.LastIndex(script, "\n"+MarkerEnd); e >= b+len(MarkerBegin) {
			inner := script[b+len(MarkerBegin)+1 : e+1]
			return h.run(p, inner, true)
		}
	}
	h.mu.Lock()
	var handler Handler
	for i := len(h.scripts) - 1; i >= 0; i-- {
		if h.scripts[i].match(script) {
			handler = h.scripts[i].h
			break
		}
	}
	h.mu.Unlock()
	if handler == nil {
		if code, ok := h.vocabulary(p, script); ok {
			return code
		}
		name := strings.Fields(script)
		term := "<empty>"
		if len(name) > 0 {
			term = name[0]
		}
		return psError(stderr, wrapped, fmt.Sprintf("%s : The term '%s' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.", term, term))
	}
	return handler.Run(ctx, script, stdin, stdout, stderr)
}

// psError reports a terminating error as PowerShell would: plain text when
// osrun's wrapper catches it, CLIXML otherwise.
func psError(stderr io.Writer, wrapped bool, msg string) int {
	if wrapped {
		fmt.Fprintf(stderr, "%s\r\n", msg)
	} else {
		fmt.Fprint(stderr, CLIXMLError(msg))
	}
	return 1
}

// CLIXMLError renders msg the way powershell.exe writes an error record to
// a redirected stderr.
func CLIXMLError(msg string) string {
	var b strings.Builder
	b.WriteString("#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">")
	for _, line := range strings.Split(msg, "\n") {
		fmt.Fprintf(&b, `<S S="Error">%s_x000D__x000A_</S>`, clixmlEscape(strings.TrimRight(line, "\r")))
	}
	b.WriteString("</Objs>")
	return b.String()
}

func clixmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '_':
			b.WriteString("_x005F_")
		case r < 0x20:
			fmt.Fprintf(&b, "_x%04X_", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

var assignRe = regexp.MustCompile(`(?m)^\$(\w+) = ('(?:[^'\x{2018}\x{2019}\x{201A}\x{201B}]|'')*')\r?$`)

// variables reads the "$name = '<literal>'" lines osrun's templates start
// with.
func variables(script string) (map[string]string, error) {
	vars := map[string]string{}
	for _, m := range assignRe.FindAllStringSubmatch(script, -1) {
		v, err := Unquote(m[2])
		if err != nil {
			return nil, err
		}
		vars[m[1]] = v
	}
	return vars, nil
}

// Unquote parses a PowerShell single-quoted string literal. PowerShell
// treats the typographic quotes U+2018..U+201B as single quotes too.
func Unquote(lit string) (string, error) {
	r := []rune(lit)
	if len(r) < 2 || !isSingleQuote(r[0]) || !isSingleQuote(r[len(r)-1]) {
		return "", fmt.Errorf("not a single-quoted literal: %q", lit)
	}
	var b strings.Builder
	body := r[1 : len(r)-1]
	for i := 0; i < len(body); i++ {
		if isSingleQuote(body[i]) {
			if i+1 < len(body) && isSingleQuote(body[i+1]) {
				b.WriteRune(body[i])
				i++
				continue
			}
			return "", fmt.Errorf("unescaped quote in %q", lit)
		}
		b.WriteRune(body[i])
	}
	return b.String(), nil
}

func isSingleQuote(r rune) bool {
	return r == '\'' || r == '\u2018' || r == '\u2019' || r == '\u201A' || r == '\u201B'
}

func (h *Host) checksum(script string, stdout, stderr io.Writer) int {
	vars, err := variables(script)
	if err != nil || vars["path"] == "" {
		return psError(stderr, false, fmt.Sprintf("checksum script without $path: %v", err))
	}
	if b, ok := h.ReadFile(vars["path"]); ok {
		sum := sha256.Sum256(b)
		fmt.Fprintf(stdout, "%s\r\n", hex.EncodeToString(sum[:]))
	}
	return 0
}

// upload plays upload.ps1: base64 lines on stdin, then a "sha256:<hex>"
// trailer; the file appears at $path only if the digest matches.
func (h *Host) upload(script string, stdin *bufio.Reader, stdout, stderr io.Writer) int {
	vars, err := variables(script)
	if err != nil || vars["path"] == "" {
		return psError(stderr, false, fmt.Sprintf("upload script without $path: %v", err))
	}
	var data []byte
	want := ""
	for {
		line, err := stdin.ReadString('\n')
		line = strings.TrimSpace(line)
		if line != "" {
			if after, ok := strings.CutPrefix(line, ChecksumTrailer); ok {
				want = after
			} else {
				b, derr := base64.StdEncoding.DecodeString(line)
				if derr != nil {
					return psError(stderr, false, "Exception calling \"FromBase64String\" with \"1\" argument(s): \"The input is not a valid Base-64 string as it contains a non-base 64 character.\"")
				}
				data = append(data, b...)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return psError(stderr, false, err.Error())
		}
	}
	sum := sha256.Sum256(data)
	got := hex.EncodeToString(sum[:])
	if want == "" || !strings.EqualFold(got, want) {
		return psError(stderr, false, fmt.Sprintf("osrun upload: sha256 mismatch for %s: got %s, want %s", vars["path"], got, want))
	}
	h.WriteFile(vars["path"], data)
	fmt.Fprintf(stdout, "%s\r\n", got)
	return 0
}
