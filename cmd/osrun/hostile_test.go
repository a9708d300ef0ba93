package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The hostile-input corpus (issue 7, "Bad input"): inventories and
// playbooks that are huge, deeply nested, not UTF-8, full of NUL bytes or
// shell metacharacters, with very long names or very many hosts, or cut
// off mid-string. Each goes through the real command line in its own
// process (the test binary doubles as osrun, see TestMain), so a stack
// overflow, which no recover catches, or a hang fails one case with its
// output instead of killing the test binary. Every case must end with the
// expected exit code, and invalid ones with a located error naming what is
// wrong.

const hostileTimeout = 60 * time.Second

// hostileHost is a valid local host; name is written as given, so it may
// carry HCL escapes.
func hostileHost(name, extra string) string {
	return fmt.Sprintf("host \"%s\" {\n  address   = \"127.0.0.1\"\n  stack     = \"j2ee\"\n  transport = \"local\"\n%s}\n", name, extra)
}

var hostileInventory = hostileHost("fe01", "  roles = [\"controller\", \"frontend\"]\n") + hostileHost("fe02", "")

// hostilePlaybook is a valid playbook around one task body.
func hostilePlaybook(task string) string {
	return "wave \"w\" {\n  hosts = group.all\n" + task + "}\n"
}

const hostileTask = "  task \"command\" \"c\" {\n    command = \"true\"\n  }\n"

func TestHostileInputs(t *testing.T) {
	if _, err := exec.LookPath("osrun"); err != nil {
		t.Skip("the test binary is not on PATH as osrun (run through go test)")
	}
	deep := func(n int) string { return strings.Repeat("[", n) + "1" + strings.Repeat("]", n) }
	long := strings.Repeat("a", 100_000)
	var manyHosts, manyRefs strings.Builder
	manyHosts.WriteString(hostileHost("fe00000", "  roles = [\"controller\", \"frontend\"]\n"))
	for i := 1; i < 10_000; i++ {
		name := fmt.Sprintf("fe%05d", i)
		manyHosts.WriteString(hostileHost(name, ""))
		fmt.Fprintf(&manyRefs, "host.%s, ", name)
	}
	manyHosts.WriteString("group \"big\" {\n  hosts = [" + manyRefs.String() + "]\n}\n")

	tests := []struct {
		name      string
		inventory string // inventory.hcl, or inventory.json when it starts with {
		playbook  string // empty: `osrun inventory -i`; else `osrun validate`
		args      []string
		code      int
		// want is a regexp stderr must match (for errors, the located
		// line file:line:col: error: Summary); stdout for exit code 0.
		want string
	}{
		// Size and nesting: refused before parsing (hclsource).
		{name: "huge inventory", inventory: hostileInventory + "# " + strings.Repeat("x", 5<<20) + "\n",
			code: 1, want: `inventory\.hcl:1:1: error: File too large`},
		{name: "huge playbook", inventory: hostileInventory, playbook: hostilePlaybook(hostileTask) + "# " + strings.Repeat("x", 5<<20) + "\n",
			code: 1, want: `playbook\.hcl:1:1: error: File too large`},
		{name: "deep inventory value", inventory: hostileHost("fe01", "  vars = { x = "+deep(10_000)+" }\n"),
			code: 1, want: `inventory\.hcl:5:\d+: error: Too deeply nested`},
		{name: "deep inventory blocks", inventory: strings.Repeat("host \"a\" {\n", 10_000) + strings.Repeat("}\n", 10_000),
			code: 1, want: `inventory\.hcl:129:\d+: error: Too deeply nested`},
		{name: "deep inventory json", inventory: `{"host": {"fe01": {"vars": {"x": ` + deep(10_000) + `}}}}`,
			code: 1, want: `inventory\.json:1:\d+: error: Too deeply nested`},
		{name: "deep playbook", inventory: hostileInventory, playbook: hostilePlaybook("  serial = " + deep(10_000) + "\n" + hostileTask),
			code: 1, want: `playbook\.hcl:3:\d+: error: Too deeply nested`},
		{name: "deep playbook template", inventory: hostileInventory,
			playbook: hostilePlaybook(strings.Replace(hostileTask, `"true"`, `"`+strings.Repeat("${\"", 10_000)+strings.Repeat("\"}", 10_000)+`"`, 1)),
			code:     1, want: `playbook\.hcl:4:\d+: error: Too deeply nested`},

		// Bytes that are not text.
		{name: "invalid UTF-8 in inventory", inventory: hostileHost("fe\xff\xfe01", ""),
			code: 1, want: `inventory\.hcl:1:\d+: error: Invalid character encoding`},
		{name: "invalid UTF-8 in playbook", inventory: hostileInventory,
			playbook: hostilePlaybook(strings.Replace(hostileTask, "true", "echo \xc3\x28", 1)),
			code:     1, want: `playbook\.hcl:4:\d+: error: Invalid character encoding`},
		{name: "NUL in inventory", inventory: hostileInventory + "host \"fe\x0003\" {}\n",
			code: 1, want: `inventory\.hcl:12:9: error: Invalid character\n`},
		{name: "NUL in playbook", inventory: hostileInventory,
			playbook: hostilePlaybook(strings.Replace(hostileTask, "true", "tr\x00ue", 1)),
			code:     1, want: `playbook\.hcl:4:\d+: error: `},

		// Names with shell metacharacters: refused where they are declared.
		{name: "host name command substitution", inventory: hostileInventory + hostileHost("$(touch pwned)", ""),
			code: 1, want: `inventory\.hcl:\d+:\d+: error: Invalid host name`},
		{name: "host name backticks", inventory: hostileInventory + hostileHost("`touch pwned`", ""),
			code: 1, want: `inventory\.hcl:\d+:\d+: error: Invalid host name`},
		{name: "host name semicolon", inventory: hostileInventory + hostileHost("fe03;rm -rf /", ""),
			code: 1, want: `inventory\.hcl:\d+:\d+: error: Invalid host name`},
		{name: "host name quote", inventory: hostileInventory + hostileHost(`fe03\"'`, ""),
			code: 1, want: `inventory\.hcl:\d+:\d+: error: Invalid host name`},
		{name: "host name newline", inventory: hostileInventory + hostileHost(`fe03\nfe04`, ""),
			code: 1, want: `inventory\.hcl:\d+:\d+: error: Invalid host name`},
		{name: "group name metacharacters", inventory: hostileInventory + "group \"$(id);`id`\" {\n  hosts = [host.fe01]\n}\n",
			code: 1, want: `inventory\.hcl:\d+:\d+: error: Invalid group name`},
		{name: "zone name metacharacters", inventory: "zone \"z'$(id)\" {}\n" + hostileInventory,
			code: 1, want: `inventory\.hcl:1:\d+: error: Invalid zone name`},
		{name: "wave name metacharacters", inventory: hostileInventory,
			playbook: strings.Replace(hostilePlaybook(hostileTask), `wave "w"`, `wave "w;$(touch pwned)\n"`, 1),
			code:     1, want: `playbook\.hcl:1:\d+: error: Invalid wave name`},
		{name: "task name metacharacters", inventory: hostileInventory,
			playbook: hostilePlaybook(strings.Replace(hostileTask, `"c"`, "\"`id`\"", 1)),
			code:     1, want: `playbook\.hcl:3:\d+: error: Invalid task name`},
		{name: "very long host name", inventory: hostileInventory + hostileHost(long, ""),
			code: 1, want: `inventory\.hcl:\d+:\d+: error: Invalid host name`},
		{name: "very long wave name", inventory: hostileInventory,
			playbook: strings.Replace(hostilePlaybook(hostileTask), `wave "w"`, `wave "`+long+`"`, 1),
			code:     1, want: `playbook\.hcl:1:\d+: error: Invalid wave name`},

		// Many hosts: valid, and loaded and planned in bounded time.
		{name: "10,000 hosts in one group", inventory: manyHosts.String(),
			code: 0, want: `fe09999`},
		{name: "10,000 hosts validated", inventory: manyHosts.String(), playbook: strings.Replace(hostilePlaybook(hostileTask), "group.all", "group.big", 1),
			code: 0, want: `.`},

		// Cut off mid-token.
		{name: "unterminated string in inventory", inventory: hostileInventory + "host \"fe03\" {\n  address = \"127.0.0.1\n}\n",
			code: 1, want: `inventory\.hcl:\d+:\d+: error: `},
		{name: "unterminated heredoc in inventory", inventory: hostileInventory + "host \"fe03\" {\n  address = <<EOT\n127.0.0.1\n",
			code: 1, want: `inventory\.hcl:\d+:\d+: error: Unterminated template string`},
		{name: "unterminated string in playbook", inventory: hostileInventory,
			playbook: "wave \"w\" {\n  hosts = group.all\n  task \"command\" \"c\" {\n    command = \"true\n",
			code:     1, want: `playbook\.hcl:\d+:\d+: error: `},
		{name: "unterminated heredoc in playbook", inventory: hostileInventory,
			playbook: "wave \"w\" {\n  hosts = group.all\n  task \"command\" \"c\" {\n    command = <<-EOT\n      true\n",
			code:     1, want: `playbook\.hcl:\d+:\d+: error: Unterminated template string`},
		{name: "unterminated block", inventory: hostileInventory + "host \"fe03\" {\n",
			code: 1, want: `inventory\.hcl:\d+:\d+: error: Unclosed configuration block`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			inv := "inventory.hcl"
			if strings.HasPrefix(tt.inventory, "{") {
				inv = "inventory.json"
			}
			write(t, filepath.Join(dir, inv), tt.inventory)
			args := []string{"inventory", "-i", inv}
			if tt.playbook != "" {
				write(t, filepath.Join(dir, "playbook.hcl"), tt.playbook)
				args = []string{"validate", "-i", inv, "playbook.hcl"}
			}
			stdout, stderr, code := runHostile(t, dir, append(args, tt.args...)...)
			checkHostile(t, stdout, stderr, code, tt.code, tt.want)
		})
	}
}

// TestHostileCommandArguments checks that shell metacharacters in a
// command task's guard paths reach the host quoted (test -e '...'), so
// nothing but the command itself ever runs, and that --check runs neither
// the command nor anything hidden in its arguments.
func TestHostileCommandArguments(t *testing.T) {
	if _, err := exec.LookPath("osrun"); err != nil {
		t.Skip("the test binary is not on PATH as osrun (run through go test)")
	}
	// Each hostile string would create a pwned-* file if a shell ever
	// evaluated it.
	hostile := []string{
		`$(touch pwned-subst)`,
		"`touch pwned-backtick`",
		`x; touch pwned-semicolon`,
		`x' ; touch pwned-quote ; '`,
		`x" ; touch pwned-dquote ; "`,
		"x\n touch pwned-newline",
		`x && touch pwned-and | touch pwned-pipe > pwned-redirect`,
	}
	for _, h := range hostile {
		for _, guard := range []string{"creates", "removes"} {
			t.Run(guard+"/"+strings.Fields(strings.TrimPrefix(h, "x"))[0], func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				write(t, filepath.Join(dir, "inventory.hcl"), hostileInventory)
				// The command itself is benign and records that it ran; the
				// guard path is the hostile string (HCL-escaped).
				task := fmt.Sprintf("  task \"command\" \"c\" {\n    command = \"touch ran-${host.name}\"\n    %s = %q\n  }\n", guard, h)
				write(t, filepath.Join(dir, "playbook.hcl"), hostilePlaybook(task))
				state := filepath.Join(dir, "state")

				stdout, stderr, code := runHostile(t, dir, "apply", "--check", "--state-dir", state, "-i", "inventory.hcl", "playbook.hcl")
				checkHostile(t, stdout, stderr, code, 0, `check \(nothing will be changed\)`)
				noPwned(t, dir, "ran-*")

				stdout, stderr, code = runHostile(t, dir, "apply", "--state-dir", state, "-i", "inventory.hcl", "playbook.hcl")
				checkHostile(t, stdout, stderr, code, 0, `.`)
				noPwned(t, dir)
				// creates names a path that does not exist, so the command
				// runs; removes names one that does not exist, so it is skipped.
				ran, _ := filepath.Glob(filepath.Join(dir, "ran-*"))
				if want := map[string]int{"creates": 2, "removes": 0}[guard]; len(ran) != want {
					t.Errorf("command ran on %d hosts, want %d\nstdout:\n%s", len(ran), want, stdout)
				}
			})
		}
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// runHostile runs osrun in dir, bounded by hostileTimeout.
func runHostile(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), hostileTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "osrun", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("osrun %s: no answer within %s (hang)\nstderr:\n%.2000s", strings.Join(args, " "), hostileTimeout, errb.String())
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

var crashed = regexp.MustCompile(`(?m)^(panic: |fatal error: |goroutine \d+ \[|runtime: )`)

func checkHostile(t *testing.T, stdout, stderr string, code, wantCode int, want string) {
	t.Helper()
	if crashed.MatchString(stderr) {
		t.Fatalf("osrun crashed:\n%.4000s", stderr)
	}
	if code != wantCode {
		t.Errorf("exit code %d, want %d\nstderr:\n%.2000s", code, wantCode, stderr)
	}
	got := stderr
	if wantCode == 0 {
		got = stdout
	}
	if !regexp.MustCompile(want).MatchString(got) {
		t.Errorf("output does not match %q:\nstdout:\n%.2000s\nstderr:\n%.2000s", want, stdout, stderr)
	}
}

// noPwned fails if a hostile argument was evaluated by a shell (or a glob
// of other files, e.g. ran-*, exists when it must not).
func noPwned(t *testing.T, dir string, more ...string) {
	t.Helper()
	for _, pattern := range append([]string{"pwned*"}, more...) {
		if m, _ := filepath.Glob(filepath.Join(dir, pattern)); len(m) > 0 {
			t.Errorf("a shell ran something it must not have: %v", m)
		}
	}
}
