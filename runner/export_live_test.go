package runner

import "testing"

// LoadLive is Load with the probe of loadLive, which declares the rotation
// and deployment effects its arguments name; calls returns the module
// calls by "host/label" since it was last called.
func LoadLive(t *testing.T, src string) (f *Fixture, calls func() map[string][]string) {
	f, log := loadLive(t, src)
	return f, func() map[string][]string {
		log.mu.Lock()
		defer log.mu.Unlock()
		out := log.calls
		log.calls = nil
		return out
	}
}
