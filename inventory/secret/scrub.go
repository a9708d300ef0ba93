package secret

import (
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

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
	// A host may print one line of a multi-line secret (a key file) on
	// its own: each line is masked too.
	if strings.Contains(s, "\n") {
		for _, line := range strings.Split(s, "\n") {
			if line = strings.TrimSpace(line); line != s {
				remember(line)
			}
		}
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

// Clip shortens s to at most n bytes (on a character boundary) followed by
// "…". A secret the cut falls inside would no longer be a secret Scrub
// recognises, so the beginning of one left at the end is masked as well.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return maskCutEnd(s[:n]) + "…"
}

// MaskCutStart masks the beginning of s when it is the end of a secret:
// what is left of it when s is the tail of a longer text (the last bytes of
// a command's output) and the cut fell inside the secret.
func MaskCutStart(s string) string {
	k := longestPartial(func(v string, k int) bool { return strings.HasPrefix(s, v[len(v)-k:]) }, len(s))
	if k == 0 {
		return s
	}
	return Redacted + s[k:]
}

func maskCutEnd(s string) string {
	k := longestPartial(func(v string, k int) bool { return strings.HasSuffix(s, v[:k]) }, len(s))
	if k == 0 {
		return s
	}
	return s[:len(s)-k] + Redacted
}

// longestPartial is the length of the longest part, shorter than the whole
// and at least minScrubLen bytes, of any known secret that matches (the
// secret and the part's length are given), or 0.
func longestPartial(matches func(v string, k int) bool, most int) int {
	known.RLock()
	defer known.RUnlock()
	best := 0
	for v := range known.values {
		for k := min(len(v)-1, most); k >= minScrubLen && k > best; k-- {
			if matches(v, k) {
				best = k
				break
			}
		}
	}
	return best
}
