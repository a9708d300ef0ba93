package winrm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"

	"github.com/osrun/osrun/transports"
)

// lineRaw is the payload of one base64 line on the upload's stdin. A
// multiple of 3 so lines need no padding; well under sendChunk so one Send
// carries whole lines.
const lineRaw = 48 << 10

type pathData struct{ Path string }

// Upload implements transports.Conn: scripts/upload.ps1 reads base64 lines
// from stdin into a temporary file, checks its SHA-256 against the digest
// sent last, and moves it into place. One command carries the whole file,
// instead of one command per 8 KB chunk. u.Mode is ignored: Windows files
// have ACLs, not permission bits. u.Dst must be an absolute Windows path.
func (c *Conn) Upload(ctx context.Context, u transports.Upload) error {
	if err := c.usable(ctx); err != nil {
		return fmt.Errorf("winrm %s: upload %s: %w", c.name, u.Dst, err)
	}
	if err := c.upload(ctx, u); err != nil {
		return fmt.Errorf("winrm %s: upload %s: %w", c.name, u.Dst, err)
	}
	return nil
}

func (c *Conn) upload(ctx context.Context, u transports.Upload) error {
	want := strings.ToLower(u.SHA256)
	if want != "" {
		have, err := c.remoteSHA256(ctx, u.Dst)
		if err != nil {
			return fmt.Errorf("check existing file: %w", err)
		}
		if have == want {
			return nil
		}
	}
	script, err := render("upload.ps1", pathData{Path: u.Dst})
	if err != nil {
		return err
	}
	src := newUploadReader(u.Src, u.Size, want)
	var stdout, stderr bytes.Buffer
	code, err := c.exec(ctx, script, src, closeStdin, &stdout, &stderr)
	if err != nil {
		return err
	}
	if code != 0 {
		// The script may have failed because the source did (it then got
		// no digest line and removed its temporary file), or on its own
		// while the feeder still waits in the source.
		if srcErr := src.failure(); srcErr != nil {
			return fmt.Errorf("read source: %w", srcErr)
		}
		return fmt.Errorf("remote write failed (exit %d): %s", code, strings.TrimSpace(stderr.String()))
	}
	// Exit 0: the script read up to end of input, so the feeder is done
	// with the source.
	local, srcErr := src.result()
	if srcErr != nil {
		return fmt.Errorf("read source: %w", srcErr)
	}
	remote := strings.ToLower(strings.TrimSpace(stdout.String()))
	if remote != local {
		return fmt.Errorf("sha256 mismatch: host wrote %q, sent %s", remote, local)
	}
	return nil
}

// remoteSHA256 returns the digest of path on the host, "" if it is absent.
func (c *Conn) remoteSHA256(ctx context.Context, path string) (string, error) {
	script, err := render("sha256.ps1", pathData{Path: path})
	if err != nil {
		return "", err
	}
	var stdout, stderr bytes.Buffer
	code, err := c.exec(ctx, script, nil, terminate, &stdout, &stderr)
	if err != nil {
		return "", err
	}
	if code != 0 {
		return "", fmt.Errorf("exit %d: %s", code, strings.TrimSpace(stderr.String()))
	}
	return strings.ToLower(strings.TrimSpace(stdout.String())), nil
}

// uploadReader turns the source into upload.ps1's stdin: base64 lines,
// then "sha256:<digest>" with the declared digest if any, else the one
// computed while reading.
type uploadReader struct {
	mu       sync.Mutex // Read runs in exec's feeder, result in Upload
	src      io.Reader
	size     int64
	declared string
	h        hash.Hash
	n        int64
	raw      []byte
	pending  []byte
	eof      bool
	err      error
}

func newUploadReader(src io.Reader, size int64, declared string) *uploadReader {
	if src == nil {
		src = bytes.NewReader(nil)
	}
	return &uploadReader{src: src, size: size, declared: declared, h: sha256.New(), raw: make([]byte, lineRaw)}
}

func (r *uploadReader) sum() string { return hex.EncodeToString(r.h.Sum(nil)) }

// result returns the digest of what was read and the source's error.
func (r *uploadReader) result() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sum(), r.err
}

// failure returns the source's error without waiting for a Read in
// progress (which may never return).
func (r *uploadReader) failure() error {
	if !r.mu.TryLock() {
		return nil
	}
	defer r.mu.Unlock()
	return r.err
}

// Read holds the lock across the source's Read: result waits for a Read
// in progress, failure does not.
func (r *uploadReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	total := 0
	for total < len(p) {
		if len(r.pending) == 0 {
			if r.err != nil {
				return total, r.err
			}
			if r.eof {
				if total == 0 {
					return 0, io.EOF
				}
				return total, nil
			}
			r.fill()
			continue
		}
		n := copy(p[total:], r.pending)
		r.pending = r.pending[n:]
		total += n
	}
	return total, nil
}

// fill encodes the next line, or the digest line at the end of the source.
func (r *uploadReader) fill() {
	n, err := io.ReadFull(r.src, r.raw)
	if n > 0 {
		r.h.Write(r.raw[:n])
		r.n += int64(n)
		line := make([]byte, base64.StdEncoding.EncodedLen(n)+2)
		base64.StdEncoding.Encode(line, r.raw[:n])
		copy(line[len(line)-2:], "\r\n")
		r.pending = line
	}
	switch {
	case err == nil:
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		if r.size > 0 && r.n != r.size {
			r.err = fmt.Errorf("source has %d bytes, %d declared", r.n, r.size)
			r.pending = nil
			return
		}
		d := r.declared
		if d == "" {
			d = r.sum()
		}
		r.pending = append(r.pending, "sha256:"+d+"\r\n"...)
		r.eof = true
	default:
		r.err = err
		r.pending = nil
	}
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
