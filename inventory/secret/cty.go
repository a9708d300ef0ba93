package secret

import "github.com/zclconf/go-cty/cty"

// Mark is the cty mark that env() and file() put on the values they return.
// Decoders require it where a secret is expected and refuse plain literals.
const Mark = "osrun.secret"

// SourceMark travels with Mark and names the reference, e.g. env("F5_PASSWORD").
type SourceMark string

// MarkValue marks v as a secret read from source.
func MarkValue(v cty.Value, source string) cty.Value {
	rememberCty(v)
	return v.Mark(Mark).Mark(SourceMark(source))
}

// IsMarked reports whether v (or anything inside it) came from a secret reference.
func IsMarked(v cty.Value) bool {
	_, marks := v.UnmarkDeep()
	_, ok := marks[Mark]
	return ok
}

// FromCty turns a marked string value into a Value. ok is false when v is
// not marked as a secret (a literal), so the caller can report it.
func FromCty(v cty.Value) (s Value, ok bool) {
	raw, marks := v.Unmark()
	if _, marked := marks[Mark]; !marked {
		return Value{}, false
	}
	if raw.IsNull() || !raw.IsKnown() || raw.Type() != cty.String {
		return Value{}, false
	}
	source := "a reference"
	for m := range marks {
		if src, isSrc := m.(SourceMark); isSrc {
			source = string(src)
		}
	}
	return New(raw.AsString(), source), true
}

// RememberMarked lets Scrub mask every string inside v when v carries the
// secret mark: a value derived from a secret (a field of a JSON document
// read with env(), a trimmed file()) is as secret as its source, but the
// characters a host echoes back are the derived ones, not the source's.
func RememberMarked(v cty.Value) {
	if v == cty.NilVal || !IsMarked(v) {
		return
	}
	raw, _ := v.UnmarkDeep()
	cty.Walk(raw, func(_ cty.Path, leaf cty.Value) (bool, error) {
		if leaf.IsKnown() && !leaf.IsNull() && leaf.Type() == cty.String {
			remember(leaf.AsString())
		}
		return true, nil
	})
}
