package ssh

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Host key checking modes, as host_key_checking spells them.
const (
	CheckStrict    = "strict"
	CheckAcceptNew = "accept-new"
	CheckOff       = "off"
)

// hostKeyPolicy decides whether to trust the key a server presents.
type hostKeyPolicy struct {
	mode   string
	pinned ssh.PublicKey // nil unless the inventory pins the key
	files  []string      // known_hosts files; new keys go to files[0]
	warn   func(string)
	who    string // "fe03 (10.0.0.3:22)", for messages
}

// knownHostsMu serialises accept-new writes from concurrent dials.
var knownHostsMu sync.Mutex

func newHostKeyPolicy(mode, pinned string, files []string, warn func(string), who string) (*hostKeyPolicy, error) {
	switch mode {
	case "":
		mode = CheckStrict
	case CheckStrict, CheckAcceptNew, CheckOff:
	default:
		return nil, fmt.Errorf("host_key_checking %q is not one of %q, %q, %q", mode, CheckStrict, CheckAcceptNew, CheckOff)
	}
	p := &hostKeyPolicy{mode: mode, files: files, warn: warn, who: who}
	if pinned != "" {
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pinned))
		if err != nil {
			return nil, fmt.Errorf("parse pinned host_key: %w", err)
		}
		p.pinned = k
	}
	if p.mode != CheckOff && p.pinned == nil && len(files) == 0 {
		return nil, errors.New("no known_hosts file configured")
	}
	return p, nil
}

// database loads the known_hosts files that exist. Missing files are an
// empty database, so the first connection reports "unknown", not ENOENT.
func (p *hostKeyPolicy) database() (ssh.HostKeyCallback, error) {
	var existing []string
	for _, f := range p.files {
		if _, err := os.Stat(f); err == nil {
			existing = append(existing, f)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("known_hosts: %w", err)
		}
	}
	if len(existing) == 0 {
		return func(string, net.Addr, ssh.PublicKey) error { return &knownhosts.KeyError{} }, nil
	}
	cb, err := knownhosts.New(existing...)
	if err != nil {
		return nil, fmt.Errorf("read known_hosts: %w", err)
	}
	return cb, nil
}

// probeKey is a key no server has; checking it against the database lists
// the keys known for a host without matching any of them.
var probeKey = func() ssh.PublicKey {
	k, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public())
	if err != nil {
		panic(err)
	}
	return k
}()

// algorithms returns the host key algorithms to offer, so a server with
// several keys presents one we know rather than one that would look like a
// changed key. Nil means the library default.
func (p *hostKeyPolicy) algorithms(addr string) []string {
	var types []string
	switch {
	case p.mode == CheckOff:
		return nil
	case p.pinned != nil:
		types = []string{p.pinned.Type()}
	default:
		cb, err := p.database()
		if err != nil {
			return nil
		}
		var ke *knownhosts.KeyError
		if err := cb(addr, fakeAddr(addr), probeKey); !errors.As(err, &ke) {
			return nil
		}
		for _, k := range ke.Want {
			types = append(types, k.Key.Type())
		}
	}
	if len(types) == 0 {
		return nil
	}
	// Certificates first: a host CA line in known_hosts still works when
	// plain keys are known too.
	certs := map[string]string{
		ssh.KeyAlgoED25519:  ssh.CertAlgoED25519v01,
		ssh.KeyAlgoECDSA256: ssh.CertAlgoECDSA256v01,
		ssh.KeyAlgoECDSA384: ssh.CertAlgoECDSA384v01,
		ssh.KeyAlgoECDSA521: ssh.CertAlgoECDSA521v01,
		ssh.KeyAlgoRSA:      ssh.CertAlgoRSASHA512v01,
	}
	var algos []string
	seen := map[string]bool{}
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			algos = append(algos, a)
		}
	}
	if p.pinned == nil {
		for _, t := range types {
			if c, ok := certs[t]; ok {
				add(c)
				if t == ssh.KeyAlgoRSA {
					add(ssh.CertAlgoRSASHA256v01)
				}
			}
		}
	}
	for _, t := range types {
		if t == ssh.KeyAlgoRSA {
			add(ssh.KeyAlgoRSASHA512)
			add(ssh.KeyAlgoRSASHA256)
		}
		add(t)
	}
	return algos
}

func fakeAddr(hostport string) net.Addr {
	host, port, _ := net.SplitHostPort(hostport)
	n, _ := strconv.Atoi(port)
	return &net.TCPAddr{IP: net.ParseIP(host), Port: n}
}

// hostKeyError is why a host key was refused; Dial shows it as is.
type hostKeyError struct{ msg string }

func (e *hostKeyError) Error() string { return e.msg }

// check is the ssh.HostKeyCallback. addr is host:port as dialled.
func (p *hostKeyPolicy) check(addr string, remote net.Addr, key ssh.PublicKey) error {
	fp := key.Type() + " " + ssh.FingerprintSHA256(key)
	if p.mode == CheckOff {
		p.warn(fmt.Sprintf("ssh %s: host key checking is off; accepted %s without verification, the connection is open to man-in-the-middle attacks", p.who, fp))
		return nil
	}
	if p.pinned != nil {
		if bytes.Equal(key.Marshal(), p.pinned.Marshal()) {
			return nil
		}
		return &hostKeyError{fmt.Sprintf("HOST KEY MISMATCH: the server presented %s but the inventory pins %s %s; "+
			"someone may be intercepting the connection (man-in-the-middle), or the host was reinstalled; refusing to connect",
			fp, p.pinned.Type(), ssh.FingerprintSHA256(p.pinned))}
	}
	cb, err := p.database()
	if err != nil {
		return &hostKeyError{err.Error()}
	}
	err = cb(addr, remote, key)
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		return &hostKeyError{fmt.Sprintf("host key %s is marked @revoked in %s:%d; refusing to connect", fp, re.Revoked.Filename, re.Revoked.Line)}
	case errors.As(err, &ke) && len(ke.Want) > 0:
		w := ke.Want[0]
		return &hostKeyError{fmt.Sprintf("HOST KEY CHANGED: the server presented %s but %s:%d records %s %s for this host; "+
			"someone may be intercepting the connection (man-in-the-middle), or the host was reinstalled. Refusing to connect; "+
			"if the change is expected, remove the old entry with: ssh-keygen -R %s -f %s",
			fp, w.Filename, w.Line, w.Key.Type(), ssh.FingerprintSHA256(w.Key), Quote(knownhosts.Normalize(addr)), Quote(w.Filename))}
	case errors.As(err, &ke):
		if p.mode == CheckAcceptNew {
			return p.record(addr, key, fp)
		}
		return &hostKeyError{fmt.Sprintf("host key unknown: the server presented %s, which is not in %s; "+
			"check that fingerprint with the host's administrator, then either add it (ssh-keyscan%s %s >> %s), "+
			"pin it with host_key in the inventory, or set host_key_checking = %q to record new keys automatically",
			fp, joinFiles(p.files), portFlag(addr), hostOnly(addr), p.files[0], CheckAcceptNew)}
	default:
		return &hostKeyError{fmt.Sprintf("host key %s not trusted: %v", fp, err)}
	}
}

// record appends a newly seen key, the way accept-new does in OpenSSH.
func (p *hostKeyPolicy) record(addr string, key ssh.PublicKey, fp string) error {
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	f := p.files[0]
	// Re-check under the lock: another dial may have recorded a different
	// key for this host meanwhile, which must then count as a change.
	if cb, err := p.database(); err == nil {
		var ke *knownhosts.KeyError
		if err := cb(addr, fakeAddr(addr), key); err == nil {
			return nil
		} else if errors.As(err, &ke) && len(ke.Want) > 0 {
			return &hostKeyError{fmt.Sprintf("HOST KEY CHANGED while connecting: the server presented %s, %s:%d records another key; refusing to connect", fp, ke.Want[0].Filename, ke.Want[0].Line)}
		}
	}
	if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
		return &hostKeyError{fmt.Sprintf("record host key: %v", err)}
	}
	fh, err := os.OpenFile(f, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return &hostKeyError{fmt.Sprintf("record host key: %v", err)}
	}
	_, err = fh.WriteString(knownhosts.Line([]string{knownhosts.Normalize(addr)}, key) + "\n")
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &hostKeyError{fmt.Sprintf("record host key in %s: %v", f, err)}
	}
	p.warn(fmt.Sprintf("ssh %s: recorded new host key %s in %s (host_key_checking = %q)", p.who, fp, f, CheckAcceptNew))
	return nil
}

func joinFiles(files []string) string {
	if len(files) == 1 {
		return files[0]
	}
	return fmt.Sprint(files)
}

func hostOnly(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}

func portFlag(addr string) string {
	if _, p, err := net.SplitHostPort(addr); err == nil && p != "22" {
		return " -p " + p
	}
	return ""
}
