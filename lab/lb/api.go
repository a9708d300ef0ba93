package lb

import (
	"bufio"
	_ "embed"
	"net"
	"strconv"
	"strings"
	"time"
)

// helpText is HAProxy 2.6.12's command list at level admin, verbatim.
//
//go:embed help.txt
var helpText string

// apiIdleTimeout is HAProxy's default "stats timeout".
const apiIdleTimeout = 10 * time.Second

// maxLine bounds one command line (HAProxy's buffer is 16 KiB).
const maxLine = 64 << 10

func (l *LB) serveAPI(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed by Close
		}
		l.wg.Go(func() { l.serveConn(c) })
	}
}

// serveConn speaks HAProxy's CLI: in non-interactive mode one line, the
// answers, and the connection closes; after "prompt" each line's answers
// end with "\n> " and the connection stays until "quit" or the timeout.
func (l *LB) serveConn(c net.Conn) {
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-l.stop:
		case <-done:
		}
		c.Close()
	}()
	r := bufio.NewReaderSize(c, 4096)
	interactive := false
	for {
		c.SetReadDeadline(time.Now().Add(apiIdleTimeout))
		line, err := readLine(r)
		if err != nil {
			return
		}
		var out strings.Builder
		quit := false
		for _, cmd := range splitCommands(line) {
			words := splitWords(cmd)
			if len(words) == 1 && words[0] == "quit" {
				quit = true
				break
			}
			if len(words) == 1 && words[0] == "prompt" {
				interactive = !interactive
			} else {
				out.WriteString(l.command(words))
			}
			if interactive {
				out.WriteString("\n> ")
			} else {
				out.WriteString("\n")
			}
		}
		c.SetWriteDeadline(time.Now().Add(apiIdleTimeout))
		if _, err := c.Write([]byte(out.String())); err != nil || quit || !interactive {
			return
		}
	}
}

// readLine reads up to '\n', refusing lines longer than maxLine.
func readLine(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		chunk, err := r.ReadSlice('\n')
		b.Write(chunk)
		if b.Len() > maxLine {
			return "", bufio.ErrBufferFull
		}
		switch err {
		case nil:
			return strings.TrimRight(b.String(), "\r\n"), nil
		case bufio.ErrBufferFull:
			continue
		default:
			return "", err
		}
	}
}

// splitCommands splits a line on ';' not escaped as "\;".
func splitCommands(line string) []string {
	var cmds []string
	start := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case ';':
			cmds = append(cmds, line[start:i])
			start = i + 1
		}
	}
	return append(cmds, line[start:])
}

// splitWords splits a command on spaces and tabs; a backslash makes the next
// character literal.
func splitWords(cmd string) []string {
	var words []string
	var w strings.Builder
	in := false
	for i := 0; i < len(cmd); i++ {
		ch := cmd[i]
		switch {
		case ch == '\\' && i+1 < len(cmd):
			i++
			w.WriteByte(cmd[i])
			in = true
		case ch == ' ' || ch == '\t':
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteByte(ch)
			in = true
		}
	}
	if in {
		words = append(words, w.String())
	}
	return words
}

// HAProxy's messages, verbatim (server.c, proxy.c, cli.c).
const (
	msgRequireServer = "Require 'backend/server'.\n"
	msgNoServer      = "No such server.\n"
	msgNoBackend     = "No such backend.\n"
	msgNoProxy       = "No such proxy.\n"
	msgCantFind      = "Can't find backend.\n"
	msgStateUsage    = "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n"
	msgSetUsage      = "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n"
	version          = "2.6.12-1+deb12u3"
)

// command runs one command and returns its output, without the prompt.
func (l *LB) command(w []string) string {
	is := func(prefix ...string) bool {
		if len(w) < len(prefix) {
			return false
		}
		for i, p := range prefix {
			if w[i] != p {
				return false
			}
		}
		return true
	}
	switch {
	case is("help") && len(w) == 1:
		return "The following commands are valid at this level:\n" + helpText
	case is("show", "version"):
		return version + "\n"
	case is("show", "backend"):
		return "# name\n" + l.cfg.Backend + "\n"
	case is("show", "servers", "state"):
		return l.showServersState(w[3:])
	case is("show", "stat"):
		return l.showStat(w[2:])
	case is("set", "server"):
		return l.setServer(w[2:])
	case is("disable", "server"):
		return l.serverCmd(w[2:], func(m *member) { l.setAdminLocked(m, Maint) })
	case is("enable", "server"):
		return l.serverCmd(w[2:], func(m *member) { l.setAdminLocked(m, Ready) })
	case is("shutdown", "sessions", "server"):
		return l.serverCmd(w[3:], func(m *member) {
			for s := range m.sessions {
				s.kill()
			}
		})
	}
	return unknown(w)
}

// unknown answers like cli.c: the help lines that start with the words
// given, or the whole list for an empty command. (HAProxy also suggests
// commands by edit distance; that is not simulated.)
func unknown(w []string) string {
	if len(w) == 0 {
		return "Unknown command. Please enter one of the following commands only:\n" + helpText
	}
	lines := strings.SplitAfter(helpText, "\n")
	var match strings.Builder
	for n := len(w); n > 0 && match.Len() == 0; n-- {
		prefix := strings.Join(w[:n], " ")
		for _, ln := range lines {
			if strings.HasPrefix(strings.TrimSpace(ln), prefix+" ") {
				match.WriteString(ln)
			}
		}
	}
	// The last three lines (help, prompt, quit) are always offered.
	tail := strings.Join(lines[max(0, len(lines)-4):], "")
	return "Unknown command, but maybe one of the following ones is a better match:\n" + match.String() + tail
}

// findServerLocked resolves "backend/server", each by name or "#id".
func (l *LB) findServerLocked(arg string) (*member, string) {
	be, sv, ok := strings.Cut(arg, "/")
	if !ok || be == "" || sv == "" {
		return nil, msgRequireServer
	}
	if !l.isBackend(be) {
		return nil, msgNoBackend
	}
	if id, ok := strings.CutPrefix(sv, "#"); ok {
		n, err := strconv.Atoi(id)
		if err == nil && n >= 1 && n <= len(l.members) {
			return l.members[n-1], ""
		}
		return nil, msgNoServer
	}
	if m, ok := l.byName[sv]; ok {
		return m, ""
	}
	return nil, msgNoServer
}

func (l *LB) isBackend(name string) bool {
	return name == l.cfg.Backend || name == "#"+strconv.Itoa(backendID)
}

func (l *LB) serverCmd(args []string, do func(m *member)) string {
	if len(args) == 0 {
		return msgRequireServer
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	m, msg := l.findServerLocked(args[0])
	if m == nil {
		return msg
	}
	do(m)
	return ""
}

func (l *LB) setServer(args []string) string {
	if len(args) == 0 {
		return msgRequireServer
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	m, msg := l.findServerLocked(args[0])
	if m == nil {
		return msg
	}
	if len(args) < 2 || args[1] != "state" {
		// Only "state" is simulated; HAProxy would also take weight,
		// addr, agent and others.
		return msgSetUsage
	}
	if len(args) < 3 {
		return msgStateUsage
	}
	switch args[2] {
	case "ready":
		l.setAdminLocked(m, Ready)
	case "drain":
		l.setAdminLocked(m, Drain)
	case "maint":
		l.setAdminLocked(m, Maint)
	default:
		return msgStateUsage
	}
	return ""
}

func (l *LB) showServersState(args []string) string {
	if len(args) > 0 && !l.isBackend(args[0]) {
		if args[0] == l.cfg.Frontend || args[0] == "#"+strconv.Itoa(frontendID) {
			return serversStateHeader // a proxy without servers
		}
		return msgCantFind
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.serversStateLocked()
}

// showStat serves "show stat [{<iid>|<proxy>} <type> <sid>] [up|no-maint]".
func (l *LB) showStat(args []string) string {
	proxy, mask, sid := -1, typeFrontend|typeBackend|typeServer, -1
	var flags []string
	for len(args) > 0 && (args[len(args)-1] == "up" || args[len(args)-1] == "no-maint" ||
		args[len(args)-1] == "typed" || args[len(args)-1] == "json" || args[len(args)-1] == "desc") {
		flags = append(flags, args[len(args)-1])
		args = args[:len(args)-1]
	}
	for _, f := range flags {
		if f == "typed" || f == "json" {
			return "show stat: only the CSV format is simulated.\n"
		}
	}
	if len(args) > 0 {
		switch p := args[0]; {
		case p == "-1":
		case p == l.cfg.Frontend:
			proxy = frontendID
		case p == l.cfg.Backend:
			proxy = backendID
		default:
			n, err := strconv.Atoi(p)
			if err != nil || (n != frontendID && n != backendID) {
				return msgNoProxy
			}
			proxy = n
		}
	}
	if len(args) > 2 {
		m, err1 := strconv.Atoi(args[1])
		s, err2 := strconv.Atoi(args[2])
		if err1 == nil && err2 == nil {
			mask, sid = m, s
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.statLocked(proxy, mask, sid)
	if len(flags) == 0 {
		return out
	}
	// "up" keeps only servers that are up; "no-maint" drops servers in
	// maintenance.
	lines := strings.SplitAfter(out, "\n")
	var b strings.Builder
	for _, ln := range lines {
		f := strings.SplitN(ln, ",", 19)
		if len(f) > 18 && f[1] != "FRONTEND" && f[1] != "BACKEND" {
			st := f[17]
			for _, fl := range flags {
				if (fl == "up" && !strings.HasPrefix(st, "UP")) || (fl == "no-maint" && strings.HasPrefix(st, "MAINT")) {
					st = ""
				}
			}
			if st == "" {
				continue
			}
		}
		b.WriteString(ln)
	}
	return b.String()
}
