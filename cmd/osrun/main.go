// Command osrun performs zero-downtime Platform Server upgrades of
// OutSystems front-end farms. See README.md for the commands, the
// inventory and playbook languages, and the exit codes.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/osrun/osrun/inventory/secret"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

// run is main without os.Exit, so tests (testscript) can drive the real CLI.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// hard is the second interrupt: it cancels even the work the first one
	// lets finish (a running installer), and then osrun exits.
	hard, hardCancel := context.WithCancel(context.Background())
	defer hardCancel()
	finished := make(chan struct{})
	watcherDone := make(chan struct{})
	defer func() {
		// Wait for the watcher so it never writes after run has returned.
		close(finished)
		<-watcherDone
	}()
	go func() {
		defer close(watcherDone)
		// A second Ctrl-C is a hard stop: the operator means it.
		select {
		case <-ctx.Done():
		case <-finished:
			return
		}
		signals := make(chan os.Signal, 1)
		signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(signals)
		stop()
		select {
		case <-finished:
			return // the run ended on its own; nothing was interrupted
		default:
		}
		fmt.Fprintln(stderr, "osrun: interrupted: no new work starts; running installers finish, then the playbook's on_failure waves run (press Ctrl-C again to stop everything)")
		select {
		case <-signals:
			fmt.Fprintln(stderr, "osrun: second interrupt: cancelling everything; the journal keeps what was done")
			hardCancel()
			select {
			case <-finished:
			case <-time.After(hardStopGrace):
				os.Exit(ExitInterrupted)
			}
		case <-finished:
		}
	}()

	app := newApp(stdin, stdout, stderr)
	app.Metadata = map[string]any{hardStopKey: hard}
	err := app.RunContext(ctx, interspersed(args))
	if err != nil {
		if _, isConfig := err.(*configError); isConfig || exitCode(err) != ExitOK {
			fmt.Fprintf(stderr, "osrun: %s\n", secret.Scrub(err.Error()))
		}
	}
	return exitCode(err)
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "osrun",
		Usage:     "zero-downtime Platform Server upgrades of OutSystems front-end farms",
		Version:   version,
		Reader:    stdin,
		Writer:    stdout,
		ErrWriter: stderr,
		// Exit codes are decided in one place (exitCode); urfave/cli must not
		// call os.Exit on its own.
		ExitErrHandler:       func(*cli.Context, error) {},
		HideHelpCommand:      false,
		EnableBashCompletion: true,
		Commands: []*cli.Command{
			validateCommand(),
			planCommand(),
			applyCommand(),
			inventoryCommand(),
			modulesCommand(),
			fmtCommand(),
			statusCommand(),
			approveCommand(),
			preflightCommand(),
			labCommand(),
			completionCommand(),
			{
				Name:  "version",
				Usage: "print osrun's version",
				Action: func(c *cli.Context) error {
					fmt.Fprintf(c.App.Writer, "osrun %s\n", version)
					return nil
				},
			},
		},
	}
}

// hardStopGrace is how long a hard stop waits for cancelled commands to
// report (and the journal to record them) before osrun exits regardless.
const hardStopGrace = 5 * time.Second

const hardStopKey = "hard-stop"

// hardStop is the context the second interrupt cancels.
func hardStop(c *cli.Context) context.Context {
	if ctx, ok := c.App.Metadata[hardStopKey].(context.Context); ok {
		return ctx
	}
	return nil
}

var (
	inventoryFlag = &cli.StringFlag{Name: "inventory", Aliases: []string{"i"}, Usage: "inventory `FILE` (default: the playbook's inventory attribute)"}
	varFlag       = &cli.StringSliceFlag{Name: "var", Usage: "set a playbook variable, `NAME=VALUE` (repeatable)"}
	varFileFlag   = &cli.StringSliceFlag{Name: "var-file", Usage: "read playbook variables from an HCL `FILE` (repeatable)"}
	limitFlag     = &cli.StringSliceFlag{Name: "limit", Aliases: []string{"l"}, Usage: "only these `HOSTS` (host or group names, comma-separated)"}
)
