package journal

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Holder says who holds a farm lock.
type Holder struct {
	User      string    `json:"user"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Since     time.Time `json:"since"`
	RunID     string    `json:"run_id"`
	Inventory string    `json:"inventory"`
}

func (h Holder) String() string {
	return fmt.Sprintf("%s@%s (pid %d, run %s) since %s", h.User, h.Host, h.PID, h.RunID, h.Since.Format(time.RFC3339))
}

// CurrentHolder describes this process.
func CurrentHolder(runID, inventory string) Holder {
	user := os.Getenv("USER")
	if user == "" {
		user = fmt.Sprintf("uid %d", os.Getuid())
	}
	host, _ := os.Hostname()
	return Holder{User: user, Host: host, PID: os.Getpid(), Since: time.Now().UTC(), RunID: runID, Inventory: inventory}
}

// LockedError is returned when another run holds the farm's lock.
type LockedError struct {
	Path   string
	Holder Holder
	// Stale is true when the holder is a process on this machine that no
	// longer exists: the lock can be broken with --break-stale-lock.
	Stale bool
}

func (e *LockedError) Error() string {
	if e.Stale {
		return fmt.Sprintf("the farm is locked by %s, but that process is gone (stale lock %s); rerun with --break-stale-lock to take it over", e.Holder, e.Path)
	}
	return fmt.Sprintf("another osrun run holds the farm lock: %s (lock file %s)", e.Holder, e.Path)
}

// Lock is a held farm lock.
type Lock struct {
	path string
}

// LockPath is where the lock for an inventory lives under dir.
func LockPath(dir, inventory string) string {
	sum := sha256.Sum256([]byte(inventory))
	return filepath.Join(dir, "lock-"+hex.EncodeToString(sum[:6])+".json")
}

// Acquire takes the lock of inventory (an absolute path) under dir. With
// breakStale, a stale lock left by a dead process on this machine is
// replaced; a live holder is never displaced.
func Acquire(dir string, me Holder, breakStale bool) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock: create state directory: %w", err)
	}
	path := LockPath(dir, me.Inventory)
	data, err := json.MarshalIndent(me, "", "  ")
	if err != nil {
		return nil, err
	}
	for attempt := 0; attempt < 2; attempt++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, werr := f.Write(append(data, '\n'))
			serr := f.Sync()
			cerr := f.Close()
			if err := errors.Join(werr, serr, cerr); err != nil {
				os.Remove(path)
				return nil, fmt.Errorf("lock: write %s: %w", path, err)
			}
			return &Lock{path: path}, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("lock: create %s: %w", path, err)
		}
		holder, rerr := readHolder(path)
		if rerr != nil {
			return nil, fmt.Errorf("lock: %s exists but cannot be read (%v); remove it by hand once you are sure no run is active", path, rerr)
		}
		locked := &LockedError{Path: path, Holder: holder, Stale: isStale(holder)}
		if !locked.Stale || !breakStale {
			return nil, locked
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("lock: break stale lock %s: %w", path, err)
		}
	}
	return nil, fmt.Errorf("lock: %s: another process took the lock while the stale one was being broken", path)
}

// Release frees the lock; releasing twice is harmless.
func (l *Lock) Release() error {
	if l == nil || l.path == "" {
		return nil
	}
	err := os.Remove(l.path)
	l.path = ""
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("lock: release: %w", err)
	}
	return nil
}

// Inspect returns the current holder of an inventory's lock, if any.
func Inspect(dir, inventory string) (*LockedError, error) {
	path := LockPath(dir, inventory)
	holder, err := readHolder(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &LockedError{Path: path, Holder: holder, Stale: isStale(holder)}, nil
}

func readHolder(path string) (Holder, error) {
	var h Holder
	data, err := os.ReadFile(path)
	if err != nil {
		return h, err
	}
	if err := json.Unmarshal(data, &h); err != nil {
		return h, err
	}
	return h, nil
}

// isStale is true only when the holder ran on this machine and its process
// is gone; a lock from another machine is never presumed dead.
func isStale(h Holder) bool {
	host, _ := os.Hostname()
	if h.Host != host || h.PID <= 0 {
		return false
	}
	err := syscall.Kill(h.PID, 0)
	return errors.Is(err, syscall.ESRCH)
}
