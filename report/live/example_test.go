package live_test

import (
	"os"

	"github.com/osrun/osrun/report/live"
	"github.com/osrun/osrun/runner"
)

// How the CLI wires the live view: only when stdout is a terminal (else it
// prints one line per event), with colour unless NO_COLOR is set, and the
// terminal's size so lines never wrap (golang.org/x/term.GetSize).
func Example() {
	isTTY, width, height := false, 120, 40 // term.IsTerminal(fd), term.GetSize(fd)
	if !isTTY {
		return
	}
	view := live.New(os.Stdout, live.Options{
		Color:  os.Getenv("NO_COLOR") == "",
		Width:  width,
		Height: height,
	})
	view.Start()
	// opts.Sink = view, or fanned out with the HTML report and JUnit.
	var sink runner.Sink = view
	_ = sink
	// ... runner.Run(ctx, opts) ...
	view.Stop() // the final frame stays; print the recap below it
}
