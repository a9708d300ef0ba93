package secret

import (
	"sort"
	"strings"
	"sync"

	"github.com/zclconf/go-cty/cty"
)

// Every secret osrun reads is remembered here so that Scrub can mask it in
// text osrun did not produce itself: a remote command's output, an error
// from a server, a module's message. A typed Value cannot leak through
// fmt, but the same characters echoed back by a host can.
var known struct {
	sync.RWMutex
	values   map[string]bool
	replacer *strings.Replacer
}

// minScrubLen: shorter secrets would mask ordinary words everywhere; they
// still never print through Value.
const minScrubLen = 3

func remember(s string) {
	if len(s) < minScrubLen {
		return
	}
	known.Lock()
	defer known.Unlock()
	if known.values == nil {
		known.values = map[string]bool{}
	}
	if known.values[s] {
		return
	}
	known.values[s] = true
	// Longest first, so a secret that contains another is masked whole.
	all := make([]string, 0, len(known.values))
	for v := range known.values {
		all = append(all, v)
	}
	sort.Slice(all, func(i, j int) bool { return len(all[i]) > len(all[j]) })
	pairs := make([]string, 0, 2*len(all))
	for _, v := range all {
		pairs = append(pairs, v, Redacted)
	}
	known.replacer = strings.NewReplacer(pairs...)
}

func rememberCty(v cty.Value) {
	raw, _ := v.Unmark()
	if raw.IsKnown() && !raw.IsNull() && raw.Type() == cty.String {
		remember(raw.AsString())
	}
}

// Scrub masks every secret osrun has read in s.
func Scrub(s string) string {
	known.RLock()
	r := known.replacer
	known.RUnlock()
	if r == nil || s == "" {
		return s
	}
	return r.Replace(s)
}
