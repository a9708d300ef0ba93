// Package live draws a run's progress on a terminal and redraws it in
// place: the current wave and batch, each host's current task, status and
// elapsed time, the last progress line per host (drain counters, installer
// output) and, in the lab, the requests served so far. Lines that must stay
// (wave headers, failures) are printed above the redrawn block, and the
// last frame stays on screen when the view stops.
//
// It is for terminals only: it moves the cursor with ANSI sequences, so the
// CLI uses it when stdout is a TTY and prints one line per event otherwise.
// Colour is a separate choice (Options.Color): the CLI turns it off for
// NO_COLOR.
//
// Entry points: New returns a View, a runner.Sink; Start redraws at most
// every Options.Interval until Stop, which draws the final frame.
// SetTraffic feeds the lab's request counters, Println prints a lasting
// line, Pause and Resume make room for a prompt.
package live
