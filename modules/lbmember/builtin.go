package lbmember

// Builtin returns the drivers osrun ships. Drivers not listed here are
// not finished.
func Builtin() *Registry {
	r := NewRegistry()
	return r
}
