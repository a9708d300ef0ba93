package hostscript

import "strings"

// Annotate adds the last lines a host printed to err, one per line under
// it, so an error shows what the host saw ("rpm: dependency missing")
// rather than only an exit status. It returns err unchanged when there are
// no lines, and nil for a nil err.
func Annotate(err error, lines []string) error {
	if err == nil || len(lines) == 0 {
		return err
	}
	return &annotated{err: err, lines: lines}
}

type annotated struct {
	err   error
	lines []string
}

func (a *annotated) Error() string {
	var b strings.Builder
	b.WriteString(a.err.Error())
	for _, l := range a.lines {
		b.WriteString("\n    | ")
		b.WriteString(l)
	}
	return b.String()
}

func (a *annotated) Unwrap() error { return a.err }
