package installer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/osrun/osrun/transports"
)

// localFile is a file on the control machine to upload.
type localFile struct {
	path string
	size int64
	sum  string // hex SHA-256
}

// fileCache hashes each local file once per task, though the task runs
// for many hosts (possibly at once): an installer is hundreds of MB.
type fileCache struct {
	mu   sync.Mutex
	sums map[fileKey]string
}

type fileKey struct {
	path string
	size int64
	mod  time.Time
}

// stat checks that path is a regular file, for check mode (no hashing).
func stat(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file", path)
	}
	return fi.Size(), nil
}

func (c *fileCache) hash(path string) (localFile, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return localFile{}, err
	}
	key := fileKey{path, fi.Size(), fi.ModTime()}
	c.mu.Lock()
	defer c.mu.Unlock()
	if sum, ok := c.sums[key]; ok {
		return localFile{path, fi.Size(), sum}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return localFile{}, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return localFile{}, fmt.Errorf("hash %s: %w", path, err)
	}
	if c.sums == nil {
		c.sums = map[fileKey]string{}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	c.sums[key] = sum
	return localFile{path, fi.Size(), sum}, nil
}

// upload sends a local file to dst; the transport skips it when dst
// already has that SHA-256 and writes atomically otherwise. want, when
// set, is the digest the user promised.
func (re runEnv) upload(ctx context.Context, path, dst, want string) error {
	lf, err := re.a.files.hash(path)
	if err != nil {
		return err
	}
	if want != "" && lf.sum != want {
		return fmt.Errorf("%s has SHA-256 %s, expected %s", path, lf.sum, want)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	re.progress(fmt.Sprintf("uploading %s to %s (%d MB)", path, dst, lf.size>>20))
	err = re.c.Upload(ctx, transports.Upload{Src: f, Size: lf.size, Dst: dst, Mode: 0o600, SHA256: lf.sum})
	if err != nil {
		return fmt.Errorf("upload %s to %s: %w", path, dst, err)
	}
	return nil
}
