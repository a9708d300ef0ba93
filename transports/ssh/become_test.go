package ssh

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/transports"
	"github.com/osrun/osrun/transports/transporttest"
)

// fakeSudo behaves like sudo for the options the transport uses: -n fails
// when a password is needed; -S -p prompt writes the prompt to stderr and
// reads one line from stdin (the shell's read takes one byte at a time, so
// the rest of stdin stays for the command, as with sudo); three wrong
// answers end it. FAKESUDO_PASSWORD empty means no password is needed.
const fakeSudo = `#!/bin/sh
nflag=; prompt='Password: '
while [ $# -gt 0 ]; do
	case "$1" in
	-n) nflag=1; shift;;
	-S) shift;;
	-p) prompt=$2; shift 2;;
	--) shift; break;;
	*) break;;
	esac
done
if [ -n "$FAKESUDO_PASSWORD" ]; then
	if [ -n "$nflag" ]; then echo "sudo: a password is required" >&2; exit 1; fi
	tries=0
	while :; do
		printf '%s' "$prompt" >&2
		IFS= read -r pw || { echo "sudo: no password was provided" >&2; exit 1; }
		[ "$pw" = "$FAKESUDO_PASSWORD" ] && break
		tries=$((tries+1))
		echo "Sorry, try again." >&2
		[ $tries -ge 3 ] && { echo "sudo: 3 incorrect password attempts" >&2; exit 1; }
	done
fi
exec "$@"
`

func fakeSudoServer(t *testing.T, password string) (*testServer, fixture) {
	t.Helper()
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "sudo"), []byte(fakeSudo), 0o755); err != nil {
		t.Fatal(err)
	}
	return inProcess(t, serverConfig{env: []string{
		"PATH=" + bin + ":" + os.Getenv("PATH"),
		"FAKESUDO_PASSWORD=" + password,
	}})
}

func TestBecomeFakeSudo(t *testing.T) {
	const stdin = "line one\nline two\n"
	for _, tc := range []struct {
		name        string
		sudoNeeds   string // password the fake sudo wants, "" for none
		given       string // become_password, "" for none
		hostBecome  bool   // become set on the host rather than the command
		wantErr     string
		wantCommand string // in the command line sent
	}{
		{name: "no password needed", wantCommand: "sudo -n --"},
		{name: "host-level become", hostBecome: true, wantCommand: "sudo -n --"},
		{name: "password needed and given", sudoNeeds: "pa55 word", given: "pa55 word", wantCommand: "sudo -S -p"},
		{name: "password given but not needed", given: "pa55 word", wantCommand: "sudo -S -p"},
		{name: "password needed not given", sudoNeeds: "pa55 word",
			wantErr: "sudo asks for a password and no become_password is configured"},
		{name: "wrong password", sudoNeeds: "pa55 word", given: "wrong",
			wantErr: "sudo refused the become password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, f := fakeSudoServer(t, tc.sudoNeeds)
			f.host.SSH.Become = tc.hostBecome
			if tc.given != "" {
				f.host.SSH.BecomePassword = secret.New(tc.given, `env("BECOME")`)
			}
			c := f.dial(t)
			var out, errOut bytes.Buffer
			err := c.Run(t.Context(), &transports.Cmd{
				Command: "echo as root; cat; echo to stderr >&2", Become: !tc.hostBecome,
				Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
			})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Run = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(out.String(), "as root") {
					t.Error("the command ran although sudo failed")
				}
			} else {
				if err != nil {
					t.Fatalf("Run: %v (stderr %q)", err, errOut.String())
				}
				// The password went to sudo only, never to the command.
				if out.String() != "as root\n"+stdin {
					t.Errorf("stdout %q, want %q", out.String(), "as root\n"+stdin)
				}
				if errOut.String() != "to stderr\n" {
					t.Errorf("stderr %q, want only the command's", errOut.String())
				}
			}
			for _, e := range s.execs() {
				if tc.given != "" && strings.Contains(e, tc.given) {
					t.Errorf("the password appears in a command line: %q", e)
				}
			}
			if tc.wantCommand != "" && !strings.Contains(strings.Join(s.execs(), "\n"), tc.wantCommand) {
				t.Errorf("command lines %q do not use %q", s.execs(), tc.wantCommand)
			}
		})
	}
}

func TestBecomeCancelFakeSudo(t *testing.T) {
	_, f := fakeSudoServer(t, "pw")
	f.host.SSH.Become = true
	f.host.SSH.BecomePassword = secret.New("pw", `env("BECOME")`)
	c := f.dial(t)
	ctx, cancel := context.WithCancel(t.Context())
	out := transporttest.NewWatchWriter("\n")
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, &transports.Cmd{Command: transporttest.SH.PIDThenSleep, Stdout: out}) }()
	<-out.Seen()
	pid, err := strconv.Atoi(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if err := transporttest.WaitGone(t, c, transporttest.SH, pid); err != nil {
		t.Error(err)
	}
}

// TestBecomeRealSudo runs through the real sudo as an unprivileged user
// created for the test (and deleted after it), with a password.
func TestBecomeRealSudo(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a test user")
	}
	for _, p := range []string{"/usr/bin/sudo", "/usr/sbin/useradd", "/usr/sbin/userdel", "/usr/sbin/chpasswd"} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s missing: real sudo test not run", p)
		}
	}
	const user, password = "osrunbt", "Become-Test-Pw-1"
	exec.Command("/usr/sbin/userdel", "-f", "-r", user).Run() // a leftover from a killed run
	home := filepath.Join(t.TempDir(), "home")
	if out, err := exec.Command("/usr/sbin/useradd", "-m", "-d", home, "-s", "/bin/sh", user).CombinedOutput(); err != nil {
		t.Skipf("useradd: %v: %s", err, out)
	}
	sudoers := "/etc/sudoers.d/osrun-transport-test"
	t.Cleanup(func() {
		os.Remove(sudoers)
		exec.Command("/usr/sbin/userdel", "-f", "-r", user).Run()
	})
	cp := exec.Command("/usr/sbin/chpasswd")
	cp.Stdin = strings.NewReader(user + ":" + password + "\n")
	if out, err := cp.CombinedOutput(); err != nil {
		t.Fatalf("chpasswd: %v: %s", err, out)
	}
	// No credential caching, so every command must authenticate.
	rule := user + " ALL=(ALL:ALL) ALL\nDefaults:" + user + " timestamp_timeout=0, !lecture\n"
	if err := os.WriteFile(sudoers, []byte(rule), 0o440); err != nil {
		t.Fatal(err)
	}

	d := startSSHD(t, sshdConfig{})
	// sshd reads authorized_keys as the user: open the way to it.
	for p := d.dir; p != "/" && p != os.TempDir(); p = filepath.Dir(p) {
		os.Chmod(p, 0o755)
	}
	os.Chmod(filepath.Join(d.dir, "authorized_keys"), 0o644)
	f := d.fixture(t, "fe01")
	f.host.SSH.User = user

	run := func(t *testing.T, c *Conn, ctx context.Context, cmd string, stdin string) (string, error) {
		var out, errOut bytes.Buffer
		err := c.Run(ctx, &transports.Cmd{Command: cmd, Become: true, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut})
		if errOut.Len() > 0 {
			t.Logf("stderr: %q", errOut.String())
		}
		return out.String(), err
	}
	t.Run("sudo -n as root", func(t *testing.T) {
		// root needs no password: the sudo -n path with the real sudo.
		c := d.fixture(t, "fe01").dial(t)
		out, err := run(t, c, t.Context(), "id -u; cat", "in\n")
		if err != nil || out != "0\nin\n" {
			t.Fatalf("Run = %q, %v", out, err)
		}
	})
	t.Run("no password", func(t *testing.T) {
		c := f.dial(t)
		_, err := run(t, c, t.Context(), "id -u", "")
		if err == nil || !strings.Contains(err.Error(), "no become_password is configured") {
			t.Fatalf("Run = %v", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		f := f
		f.host = ptr(*f.host)
		f.host.SSH.BecomePassword = secret.New("wrong", `env("BECOME")`)
		c := f.dial(t)
		_, err := run(t, c, t.Context(), "id -u", "")
		if err == nil || !strings.Contains(err.Error(), "sudo refused the become password") {
			t.Fatalf("Run = %v", err)
		}
	})
	f.host.SSH.BecomePassword = secret.New(password, `env("BECOME")`)
	t.Run("password", func(t *testing.T) {
		c := f.dial(t)
		out, err := run(t, c, t.Context(), "id -u; cat", "stdin for the command\n")
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if out != "0\nstdin for the command\n" {
			t.Errorf("stdout %q", out)
		}
	})
	t.Run("cancel kills the root process", func(t *testing.T) {
		c := f.dial(t)
		ctx, cancel := context.WithCancel(t.Context())
		out := transporttest.NewWatchWriter("\n")
		done := make(chan error, 1)
		go func() {
			done <- c.Run(ctx, &transports.Cmd{Command: transporttest.SH.PIDThenSleep, Become: true, Stdout: out})
		}()
		select {
		case <-out.Seen():
		case err := <-done:
			t.Fatalf("Run ended: %v", err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(out.String()))
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v", err)
		}
		// Checked from here, as root: the remote user cannot see it.
		for i := 0; i < 50 && alive(pid); i++ {
			time.Sleep(100 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("root process %d survived the cancel", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	return !strings.Contains(string(b), "\nState:\tZ")
}

// TestUploadBecomeFakeSudo: with become, the file goes through cat under
// sudo; the password reaches sudo, never the file.
func TestUploadBecomeFakeSudo(t *testing.T) {
	s, f := fakeSudoServer(t, "pw")
	f.host.SSH.Become = true
	f.host.SSH.BecomePassword = secret.New("pw", `env("BECOME")`)
	c := f.dial(t)
	dst := filepath.Join(t.TempDir(), "installer.bin")
	content := strings.Repeat("installer bytes\n", 100000)
	if err := c.Upload(t.Context(), transports.Upload{Src: strings.NewReader(content), Size: int64(len(content)), Dst: dst, Mode: 0o750}); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	got, err := os.ReadFile(dst)
	if err != nil || string(got) != content {
		t.Fatalf("uploaded file: %d bytes, %v; want %d bytes", len(got), err, len(content))
	}
	if fi, _ := os.Stat(dst); fi.Mode().Perm() != 0o750 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	n := 0
	for _, e := range s.execs() {
		if strings.Contains(e, "sudo -S") {
			n++
		}
	}
	if n < 2 {
		t.Errorf("upload commands did not go through sudo: %q", s.execs())
	}
}
