package winrmtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/osrun/osrun/transports/transporttest"
)

// The transport conformance suite speaks a fixed PowerShell vocabulary
// (transporttest's PS* snippets, joined with "; "). Host plays each
// snippet against its simulated processes and file system.

const tempRoot = `C:\Users\Administrator\AppData\Local\Temp`

var lit = `('(?:[^']|'')*')`

type statement struct {
	re  *regexp.Regexp
	run func(h *Host, p *proc, m []string) (exit int, stop bool)
}

// proc is one simulated powershell.exe.
type proc struct {
	ctx    context.Context
	pid    int
	stdin  *bufio.Reader
	stdout io.Writer
	stderr io.Writer
}

func exact(s string) *regexp.Regexp { return regexp.MustCompile(`^` + regexp.QuoteMeta(s)) }

func unq(s string) string {
	v, _ := Unquote(s)
	return v
}

var statements = []statement{
	{exact(transporttest.PSReadyThenDrain), func(h *Host, p *proc, _ []string) (int, bool) {
		io.WriteString(p.stdout, "ready")
		_, _ = io.Copy(io.Discard, p.stdin)
		io.WriteString(p.stdout, "done")
		return 0, false
	}},
	{exact(transporttest.PSPIDThenSleep), func(h *Host, p *proc, _ []string) (int, bool) {
		fmt.Fprintf(p.stdout, "%d\r\n", p.pid)
		t := time.NewTimer(30 * time.Second)
		defer t.Stop()
		select {
		case <-t.C:
		case <-p.ctx.Done():
		}
		return 0, false
	}},
	{exact(transporttest.PSTempDir), func(h *Host, p *proc, _ []string) (int, bool) {
		var b [6]byte
		_, _ = rand.Read(b[:])
		d := tempRoot + `\` + hex.EncodeToString(b[:4]) + "." + hex.EncodeToString(b[4:])[:3]
		h.mkdir(d)
		io.WriteString(p.stdout, d)
		return 0, false
	}},
	{exact(transporttest.PSCat), func(h *Host, p *proc, _ []string) (int, bool) {
		for {
			line, err := p.stdin.ReadString('\n')
			if line != "" {
				fmt.Fprintf(p.stdout, "%s\r\n", strings.TrimRight(line, "\r\n"))
			}
			if err != nil {
				return 0, false
			}
		}
	}},
	{regexp.MustCompile(`^\[Console\]::Out\.Write\(` + lit + ` \* (\d+)\)`), func(h *Host, p *proc, m []string) (int, bool) {
		n, _ := strconv.Atoi(m[2])
		chunk := strings.Repeat(unq(m[1]), 4096)
		s := unq(m[1])
		for n >= 4096 {
			io.WriteString(p.stdout, chunk)
			n -= 4096
		}
		io.WriteString(p.stdout, strings.Repeat(s, n))
		return 0, false
	}},
	{regexp.MustCompile(`^\[Console\]::Out\.Write\(` + lit + `\)`), func(h *Host, p *proc, m []string) (int, bool) {
		io.WriteString(p.stdout, unq(m[1]))
		return 0, false
	}},
	{regexp.MustCompile(`^\[Console\]::Error\.Write\(` + lit + `\)`), func(h *Host, p *proc, m []string) (int, bool) {
		io.WriteString(p.stderr, unq(m[1]))
		return 0, false
	}},
	{regexp.MustCompile(`^exit (-?\d+)`), func(h *Host, p *proc, m []string) (int, bool) {
		n, _ := strconv.Atoi(m[1])
		return n, true
	}},
	{regexp.MustCompile(`^if \(Get-Process -Id (\d+) -ErrorAction SilentlyContinue\) \{ exit 0 \} else \{ exit 1 \}`), func(h *Host, p *proc, m []string) (int, bool) {
		pid, _ := strconv.Atoi(m[1])
		h.mu.Lock()
		alive := h.pids[pid]
		h.mu.Unlock()
		if alive {
			return 0, true
		}
		return 1, true
	}},
	{regexp.MustCompile(`^Remove-Item -LiteralPath ` + lit + ` -Recurse -Force`), func(h *Host, p *proc, m []string) (int, bool) {
		h.removeAll(unq(m[1]))
		return 0, false
	}},
	{regexp.MustCompile(`^\[Console\]::Out\.Write\(\(Get-FileHash -Algorithm SHA256 -LiteralPath ` + lit + `\)\.Hash\.ToLower\(\)\)`), func(h *Host, p *proc, m []string) (int, bool) {
		path := unq(m[1])
		b, ok := h.ReadFile(path)
		if !ok {
			fmt.Fprintf(p.stderr, "Get-FileHash : Cannot find path '%s' because it does not exist.\r\n", path)
			return 1, true
		}
		sum := sha256.Sum256(b)
		io.WriteString(p.stdout, hex.EncodeToString(sum[:]))
		return 0, false
	}},
	{regexp.MustCompile(`^Get-ChildItem -Force -Name -LiteralPath ` + lit + ` \| ForEach-Object \{ \[Console\]::Out\.WriteLine\(\$_\) \}`), func(h *Host, p *proc, m []string) (int, bool) {
		dir := unq(m[1])
		names, ok := h.list(dir)
		if !ok {
			fmt.Fprintf(p.stderr, "Get-ChildItem : Cannot find path '%s' because it does not exist.\r\n", dir)
			return 1, true
		}
		for _, n := range names {
			fmt.Fprintf(p.stdout, "%s\r\n", n)
		}
		return 0, false
	}},
}

// vocabulary runs script if it is made only of known statements.
func (h *Host) vocabulary(p *proc, script string) (exit int, ok bool) {
	rest := strings.TrimSpace(script)
	type step struct {
		st statement
		m  []string
	}
	var steps []step
	for rest != "" {
		matched := false
		for _, st := range statements {
			m := st.re.FindStringSubmatch(rest)
			if m == nil {
				continue
			}
			after := rest[len(m[0]):]
			if after != "" && !strings.HasPrefix(after, "; ") {
				continue
			}
			steps = append(steps, step{st, m})
			rest = strings.TrimPrefix(after, "; ")
			matched = true
			break
		}
		if !matched {
			return 0, false
		}
	}
	for _, s := range steps {
		if code, stop := s.st.run(h, p, s.m); stop {
			return code, true
		}
	}
	return 0, true
}

func parentDir(path string) string {
	i := strings.LastIndexAny(path, `\/`)
	if i < 0 {
		return ""
	}
	return path[:i]
}

func baseName(path string) string {
	return path[strings.LastIndexAny(path, `\/`)+1:]
}

func (h *Host) mkdir(path string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for p := path; p != "" && !strings.HasSuffix(p, ":"); p = parentDir(p) {
		h.dirs[strings.ToLower(p)] = p
	}
}

func (h *Host) removeAll(path string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	key := strings.ToLower(path)
	for k := range h.files {
		if k == key || strings.HasPrefix(k, key+`\`) || strings.HasPrefix(k, key+"/") {
			delete(h.files, k)
		}
	}
	for k := range h.dirs {
		if k == key || strings.HasPrefix(k, key+`\`) || strings.HasPrefix(k, key+"/") {
			delete(h.dirs, k)
		}
	}
}

// list returns the names directly under dir.
func (h *Host) list(dir string) ([]string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	key := strings.ToLower(dir)
	if _, ok := h.dirs[key]; !ok {
		return nil, false
	}
	var names []string
	for k, f := range h.files {
		if strings.EqualFold(parentDir(k), key) {
			names = append(names, baseName(f.name))
		}
	}
	for k, d := range h.dirs {
		if strings.EqualFold(parentDir(k), key) {
			names = append(names, baseName(d))
		}
	}
	return names, true
}
