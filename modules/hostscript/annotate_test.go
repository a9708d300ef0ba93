package hostscript

import (
	"errors"
	"io"
	"testing"
)

func TestAnnotate(t *testing.T) {
	if Annotate(nil, []string{"x"}) != nil {
		t.Error("nil error annotated")
	}
	if got := Annotate(io.EOF, nil); got != io.EOF {
		t.Errorf("no lines: got %v", got)
	}
	err := Annotate(io.EOF, []string{"a", "b"})
	if want := "EOF\n    | a\n    | b"; err.Error() != want {
		t.Errorf("got %q, want %q", err.Error(), want)
	}
	if !errors.Is(err, io.EOF) {
		t.Error("Annotate hides the cause")
	}
}
