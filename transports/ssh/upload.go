package ssh

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"path"
	"strings"
	"sync"

	"github.com/osrun/osrun/transports"
)

// Upload streams u.Src into a temporary file next to u.Dst with cat,
// compares the SHA-256 that sha256sum computes on the host with the one
// computed while sending, then sets the mode and renames the file over
// u.Dst. It needs nothing on the host but a POSIX shell and coreutils, so
// hosts without SFTP work too. When u.SHA256 is set and u.Dst already has
// that digest, nothing is sent (installers are large).
func (c *Conn) Upload(ctx context.Context, u transports.Upload) error {
	if u.Dst == "" {
		return fmt.Errorf("ssh %s: upload: no destination", c.host.Name)
	}
	mode := u.Mode.Perm()
	if mode == 0 {
		mode = 0o644
	}
	m := fmt.Sprintf("%04o", mode)
	dst := Quote(u.Dst)
	want := strings.ToLower(u.SHA256)
	if want != "" {
		var out bytes.Buffer
		check := fmt.Sprintf("if [ -f %s ] && [ \"$(sha256sum < %s | cut -c1-64)\" = %s ]; then chmod %s %s && echo same; fi", dst, dst, Quote(want), m, dst)
		if err := c.Run(ctx, &transports.Cmd{Command: check, Stdout: &out}); err != nil {
			return fmt.Errorf("upload %s: compare with the existing file: %w", u.Dst, err)
		}
		if strings.TrimSpace(out.String()) == "same" {
			return nil
		}
	}

	tmp := path.Join(path.Dir(u.Dst), "."+path.Base(u.Dst)+".osrun-"+nonce())
	h := sha256.New()
	src := &countingReader{r: u.Src, h: h}
	var remote bytes.Buffer
	send := fmt.Sprintf("umask 077 && cat > %s && sha256sum < %s | cut -c1-64", Quote(tmp), Quote(tmp))
	err := c.Run(ctx, &transports.Cmd{Command: send, Stdin: src, Stdout: &remote})
	if err == nil {
		err = verify(src, h, u, strings.TrimSpace(remote.String()))
	}
	if err == nil {
		err = c.Run(ctx, &transports.Cmd{Command: fmt.Sprintf("chmod %s %s && mv -f %s %s", m, Quote(tmp), Quote(tmp), dst)})
	}
	if err != nil {
		// The command may have been cancelled: clean up on our own time.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), killTimeout)
		defer cancel()
		c.Run(cctx, &transports.Cmd{Command: "rm -f " + Quote(tmp)})
		return fmt.Errorf("upload %s: %w", u.Dst, err)
	}
	return nil
}

func verify(src *countingReader, h hash.Hash, u transports.Upload, remote string) error {
	src.mu.Lock()
	defer src.mu.Unlock()
	local := hex.EncodeToString(h.Sum(nil))
	switch {
	case u.Size > 0 && src.n != u.Size:
		return fmt.Errorf("source gave %d bytes, want %d", src.n, u.Size)
	case u.SHA256 != "" && !strings.EqualFold(local, u.SHA256):
		return fmt.Errorf("source content has sha256 %s, want %s", local, u.SHA256)
	case remote != local:
		return fmt.Errorf("checksum mismatch after transfer: host computed %q, sent %s", remote, local)
	}
	return nil
}

// countingReader hashes and counts what passes through it.
type countingReader struct {
	mu sync.Mutex // Run may still copy from it when it returns
	r  io.Reader
	h  hash.Hash
	n  int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}
