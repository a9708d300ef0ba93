package ssh

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/pkg/sftp"

	"github.com/osrun/osrun/transports"
)

// Upload writes u.Src to a temporary file next to u.Dst, checks that the
// SHA-256 computed on the host (openssl or sha256sum, reading the file
// back) equals the one computed while sending, then sets the mode and
// renames the file over u.Dst, so readers see the old file or the new one,
// never a part.
//
// The bytes travel over SFTP when the server offers it, otherwise they are
// streamed into cat, which needs nothing on the host but a POSIX shell;
// with become they always go through cat under sudo. Both beat scp on
// loopback and tie with each other (bench/ssh/README.md). When u.SHA256 is set and u.Dst already has that digest,
// nothing is sent (installers are large).
func (c *Conn) Upload(ctx context.Context, u transports.Upload) error {
	if u.Dst == "" {
		return fmt.Errorf("ssh %s: upload: no destination", c.host.Name)
	}
	if err := c.upload(ctx, u); err != nil {
		return fmt.Errorf("upload %s: %w", u.Dst, err)
	}
	return nil
}

func (c *Conn) upload(ctx context.Context, u transports.Upload) error {
	mode := u.Mode.Perm()
	if mode == 0 {
		mode = 0o644
	}
	m := fmt.Sprintf("%04o", mode)
	dst := Quote(u.Dst)
	if want := strings.ToLower(u.SHA256); want != "" {
		var out bytes.Buffer
		check := fmt.Sprintf("if [ -f %s ] && [ \"$(%s)\" = %s ]; then chmod %s %s && echo same; fi", dst, sha256Command(u.Dst), Quote(want), m, dst)
		if err := c.Run(ctx, &transports.Cmd{Command: check, Stdout: &out}); err != nil {
			return fmt.Errorf("compare with the existing file: %w", err)
		}
		if strings.TrimSpace(out.String()) == "same" {
			return nil
		}
	}

	tmp := path.Join(path.Dir(u.Dst), "."+path.Base(u.Dst)+".osrun-"+nonce())
	size := u.Size
	if size <= 0 {
		size = -1
	}
	src := &countingReader{r: u.Src, h: sha256.New(), size: size}
	err := c.send(ctx, src, tmp)
	var local string
	if err == nil {
		local, err = checkSource(src, u)
	}
	if err == nil {
		// One command checks the digest on the host and, only if it
		// matches, gives the file its mode and its name.
		var out bytes.Buffer
		commit := fmt.Sprintf("h=$(%s) && if [ \"$h\" = %s ]; then chmod %s %s && mv -f %s %s; else echo \"mismatch $h\"; exit 1; fi",
			sha256Command(tmp), Quote(local), m, Quote(tmp), Quote(tmp), dst)
		err = c.Run(ctx, &transports.Cmd{Command: commit, Stdout: &out})
		if remote, ok := strings.CutPrefix(strings.TrimSpace(out.String()), "mismatch "); ok {
			err = fmt.Errorf("checksum mismatch after transfer: host computed %q, sent %s", remote, local)
		}
	}
	if err != nil {
		// ctx may be why we failed: clean up on our own, bounded, time.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), killTimeout)
		defer cancel()
		c.Run(cctx, &transports.Cmd{Command: "rm -f " + Quote(tmp)})
		return err
	}
	return nil
}

// sha256Command prints the hex SHA-256 of the file at p. OpenSSL's digest
// is several times faster than coreutils' sha256sum where the CPU has SHA
// instructions, which matters for installers; sha256sum is the fallback.
// Either way a wrong digest only makes the upload fail.
func sha256Command(p string) string {
	return "if command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 -r; else sha256sum; fi < " + Quote(p) + " | cut -c1-64"
}

// errNoSFTP means the server has no SFTP subsystem: use cat instead.
var errNoSFTP = errors.New("no sftp subsystem")

// send writes src to tmp on the host, over SFTP if possible.
func (c *Conn) send(ctx context.Context, src *countingReader, tmp string) error {
	if !c.host.SSH.Become && !c.opts.DisableSFTP {
		err := c.sendSFTP(ctx, src, tmp)
		if !errors.Is(err, errNoSFTP) {
			return err
		}
	}
	// umask: the file is private until it has its final mode.
	return c.Run(ctx, &transports.Cmd{Command: "umask 077 && cat > " + Quote(tmp), Stdin: src})
}

func (c *Conn) sendSFTP(ctx context.Context, src *countingReader, tmp string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return fmt.Errorf("ssh %s: connection closed", c.host.Name)
	}
	cl := c.clients[len(c.clients)-1]
	c.mu.Unlock()
	sc, err := sftp.NewClient(cl, sftp.UseConcurrentWrites(true))
	if err != nil {
		// No subsystem, or a dead connection that Run will redial.
		return errNoSFTP
	}
	defer sc.Close()
	// sftp calls take no context, and a write blocks while the source
	// does: on cancel, close the client, which fails every pending call,
	// and return without waiting (the copy reads no more once its next
	// write fails).
	done := make(chan error, 1)
	go func() {
		f, err := sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
		if err != nil {
			done <- err
			return
		}
		err = f.Chmod(0o600)
		if err == nil {
			_, err = f.ReadFrom(src)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("sftp write %s: %w", tmp, err)
		}
		return nil
	case <-ctx.Done():
		sc.Close()
		return ctx.Err()
	}
}

// checkSource returns the digest of what was sent, or why the source
// cannot be trusted.
func checkSource(src *countingReader, u transports.Upload) (string, error) {
	src.mu.Lock()
	defer src.mu.Unlock()
	local := hex.EncodeToString(src.h.Sum(nil))
	switch {
	case src.err != nil:
		return "", fmt.Errorf("read source: %w", src.err)
	case u.Size > 0 && src.n != u.Size:
		return "", fmt.Errorf("source gave %d bytes, want %d", src.n, u.Size)
	case u.SHA256 != "" && !strings.EqualFold(local, u.SHA256):
		return "", fmt.Errorf("source content has sha256 %s, want %s", local, u.SHA256)
	}
	return local, nil
}

// countingReader hashes and counts what passes through it, and remembers
// a read error, so a failing source can never pass for a short file.
type countingReader struct {
	mu   sync.Mutex // the copy may still run when the upload gives up
	r    io.Reader
	h    hash.Hash
	n    int64
	size int64 // expected size, -1 if unknown
	err  error
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// Size tells sftp how much to expect; -1 asks for full concurrency.
func (c *countingReader) Size() int64 { return c.size }
