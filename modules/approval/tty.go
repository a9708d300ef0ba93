package approval

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
)

// TTY asks on a terminal: it writes the instructions and a prompt to Out
// and reads answers from In, one per line.
//
// Reading a terminal cannot be interrupted, so one goroutine reads In for
// the life of the TTY and hands each line to the Wait that is asking, if
// any. Lines typed while no question is pending are discarded, so a stray
// "y" never approves the next gate. The goroutine ends when In does.
type TTY struct {
	in  io.Reader
	out io.Writer

	start sync.Once
	ended chan struct{} // closed when In ends

	turn chan struct{} // holds a token while a question is on screen

	mu      sync.Mutex
	answers chan string // the pending question's answers; nil when none
}

// NewTTY returns a gate that prompts on out and reads answers from in.
func NewTTY(in io.Reader, out io.Writer) *TTY {
	return &TTY{in: in, out: out, ended: make(chan struct{}), turn: make(chan struct{}, 1)}
}

func (t *TTY) read() {
	sc := bufio.NewScanner(t.in)
	for sc.Scan() {
		t.mu.Lock()
		if t.answers != nil {
			select {
			case t.answers <- sc.Text():
			default: // the asker has not read the previous line yet
			}
		}
		t.mu.Unlock()
	}
	close(t.ended)
}

func (t *TTY) listen(ch chan string) {
	t.mu.Lock()
	t.answers = ch
	t.mu.Unlock()
}

// Wait shows the instructions and waits for y/yes (approve) or n/no (deny).
// Any other answer repeats the prompt. Questions from concurrent Waits are
// asked one after the other. The end of In makes the gate
// undecided, so Any can still obtain an approval another way.
func (t *TTY) Wait(ctx context.Context, id, instructions string) error {
	// One question at a time, but a gate waiting for its turn still
	// gives up when its context ends (Any cancels it when another gate,
	// such as an approval file, has answered).
	select {
	case t.turn <- struct{}{}:
		defer func() { <-t.turn }()
	case <-ctx.Done():
		return ctxErr(ctx, id)
	}
	// Listen before the reader starts: otherwise the first line could be
	// read, and dropped as stray, before this question was listening.
	answers := make(chan string, 1)
	t.listen(answers)
	defer t.listen(nil)
	t.start.Do(func() { go t.read() })

	fmt.Fprintf(t.out, "\n== approval needed: %s ==\n%s\n", id, strings.TrimRight(instructions, "\n"))
	prompt := func() { fmt.Fprint(t.out, "Done? Type yes to continue, no to stop the run [yes/no]: ") }
	prompt()
	// decide returns done=false for an answer that is neither yes nor no.
	decide := func(line string) (done bool, err error) {
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "y", "yes":
			return true, nil
		case "n", "no":
			return true, fmt.Errorf("gate %s: %w", id, ErrDenied)
		}
		prompt()
		return false, nil
	}
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(t.out)
			return ctxErr(ctx, id)
		case line := <-answers:
			if done, err := decide(line); done {
				return err
			}
		case <-t.ended:
			// The last line may still be waiting in answers.
			select {
			case line := <-answers:
				if done, err := decide(line); done {
					return err
				}
			default:
			}
			fmt.Fprintln(t.out)
			return fmt.Errorf("gate %s: terminal input ended: %w", id, ErrUndecided)
		}
	}
}
