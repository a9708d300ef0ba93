// Package command is the `command` module: a raw command in the host's
// shell (POSIX sh over SSH or locally, PowerShell over WinRM). The
// `creates` and `removes` guards make it idempotent and let check mode
// predict whether it would run.
package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/transports"
	"github.com/osrun/osrun/transports/ssh"
	"github.com/osrun/osrun/transports/winrm"
)

// maxCapture bounds how much of each output stream is kept for task
// results; a chatty command must not grow osrun's memory without limit.
const maxCapture = 64 << 10

// Definition returns the command module.
func Definition() *modules.Definition {
	return &modules.Definition{
		Name:      "command",
		Summary:   "Run a raw command on the host",
		Doc:       "Runs `command` in the host's shell: /bin/sh for J2EE and local hosts, PowerShell for .NET hosts. With `creates`, the command is skipped when that path exists; with `removes`, it is skipped when that path does not exist. Without a guard it always runs and reports changed; in check mode it is not run and is reported as 'would run'. A non-zero exit fails the task. Its output is available to later tasks as task.command.<name>.stdout, .stderr and .rc.",
		DefaultOn: modules.OnHost,
		Params: []modules.Param{
			{Name: "command", Type: cty.String, Required: true, Doc: "The command line (sh) or script (PowerShell)."},
			{Name: "creates", Type: cty.String, Doc: "Skip when this path exists on the host."},
			{Name: "removes", Type: cty.String, Doc: "Skip when this path does not exist on the host."},
			{Name: "become", Type: cty.Bool, Default: cty.False, Doc: "Run with elevated privileges (sudo on POSIX hosts)."},
		},
		Example: `task "command" "platform_version" {
  command = "cat /opt/outsystems/platform/version.txt"
}`,
		New: func(args modules.Args) (modules.Action, error) {
			return &action{
				command: args.String("command"),
				creates: args.String("creates"),
				removes: args.String("removes"),
				become:  args.Bool("become"),
			}, nil
		},
	}
}

type action struct {
	command, creates, removes string
	become                    bool
}

// skipReason says why the guards make the command unnecessary, or "".
func (a *action) skipReason(ctx context.Context, conn transports.Conn) (string, error) {
	if a.creates != "" {
		exists, err := pathExists(ctx, conn, a.creates)
		if err != nil {
			return "", fmt.Errorf("check creates %s: %w", a.creates, err)
		}
		if exists {
			return a.creates + " exists", nil
		}
	}
	if a.removes != "" {
		exists, err := pathExists(ctx, conn, a.removes)
		if err != nil {
			return "", fmt.Errorf("check removes %s: %w", a.removes, err)
		}
		if !exists {
			return a.removes + " does not exist", nil
		}
	}
	return "", nil
}

func (a *action) Check(ctx context.Context, env *modules.Env) (modules.Result, error) {
	if env.Conn == nil {
		return modules.Result{}, errors.New("command: needs a host connection (on = \"host\")")
	}
	reason, err := a.skipReason(ctx, env.Conn)
	if err != nil {
		return modules.Result{}, err
	}
	if reason != "" {
		return modules.Result{Msg: "skipped: " + reason, Output: output("", "", 0)}, nil
	}
	return modules.Result{Changed: true, Msg: "would run: " + firstLine(a.command)}, nil
}

func (a *action) Apply(ctx context.Context, env *modules.Env) (modules.Result, error) {
	if env.Conn == nil {
		return modules.Result{}, errors.New("command: needs a host connection (on = \"host\")")
	}
	reason, err := a.skipReason(ctx, env.Conn)
	if err != nil {
		return modules.Result{}, err
	}
	if reason != "" {
		return modules.Result{Msg: "skipped: " + reason, Output: output("", "", 0)}, nil
	}
	stdout := &tailBuffer{max: maxCapture}
	stderr := &tailBuffer{max: maxCapture}
	err = env.Conn.Run(ctx, &transports.Cmd{Command: a.command, Stdout: stdout, Stderr: stderr, Become: a.become})
	var exit *transports.ExitError
	switch {
	case errors.As(err, &exit):
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return modules.Result{Output: output(stdout.String(), stderr.String(), exit.Status)},
			fmt.Errorf("command exited with status %d: %s", exit.Status, lastLines(msg, 5))
	case err != nil:
		return modules.Result{}, err
	}
	return modules.Result{Changed: true, Msg: "ran: " + firstLine(a.command), Output: output(stdout.String(), stderr.String(), 0)}, nil
}

func pathExists(ctx context.Context, conn transports.Conn, path string) (bool, error) {
	var script string
	if conn.Shell() == "powershell" {
		quoted, err := winrm.Quote(path)
		if err != nil {
			return false, err
		}
		script = "if (Test-Path -LiteralPath " + quoted + ") { exit 0 } else { exit 1 }"
	} else {
		script = "test -e " + ssh.Quote(path)
	}
	err := conn.Run(ctx, &transports.Cmd{Command: script})
	var exit *transports.ExitError
	if errors.As(err, &exit) && exit.Status == 1 {
		return false, nil
	}
	return err == nil, err
}

func output(stdout, stderr string, rc int) map[string]cty.Value {
	return map[string]cty.Value{
		"stdout": cty.StringVal(stdout),
		"stderr": cty.StringVal(stderr),
		"rc":     cty.NumberIntVal(int64(rc)),
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	buf       bytes.Buffer
	max       int
	truncated bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= t.max {
		t.buf.Reset()
		p = p[len(p)-t.max:]
		t.truncated = true
	} else if t.buf.Len()+len(p) > t.max {
		drop := t.buf.Len() + len(p) - t.max
		t.buf.Next(drop)
		t.truncated = true
	}
	t.buf.Write(p)
	return n, nil
}

func (t *tailBuffer) String() string {
	if t.truncated {
		// The cut may have fallen inside a secret the command printed.
		return "…" + secret.MaskCutStart(t.buf.String())
	}
	return t.buf.String()
}
