package transporttest

import (
	"fmt"
	"strings"
)

// Dialect is every command the suite runs, in one shell language. Each
// snippet has a single, documented meaning so a fake server can emulate it.
type Dialect struct {
	Name string
	// Write writes stdout, then stderr, without trailing newlines.
	Write func(stdout, stderr string) string
	// WriteExit writes stdout and exits with status.
	WriteExit func(stdout string, status int) string
	// Cat copies stdin to stdout line by line.
	Cat string
	// ReadyThenDrain writes "ready", flushes, reads stdin to its end, then
	// writes "done".
	ReadyThenDrain string
	// Large writes LargeChunk n times.
	Large func(n int) string
	// PIDThenSleep writes the id of a process that sleeps 30 seconds and
	// flushes, then waits for it.
	PIDThenSleep string
	// Alive exits 0 when process pid is still running (zombies excluded)
	// and 1 when it is gone.
	Alive func(pid int) string
	// TempDir creates a fresh directory and writes its path.
	TempDir string
	// RemoveAll removes path recursively.
	RemoveAll func(path string) string
	// SHA256 writes the lower-case hex SHA-256 of the file at path.
	SHA256 func(path string) string
	// Mode writes the permission bits of path in octal (e.g. "640"); nil
	// when the platform has no POSIX modes.
	Mode func(path string) string
	// List writes the names of the entries in dir, hidden ones included,
	// one per line.
	List func(dir string) string
	// Join joins a directory written by TempDir and a file name.
	Join func(dir, name string) string
}

// LargeChunk is the unit Large repeats.
const LargeChunk = "0123456789abcdef"

// ForShell returns the dialect for a Conn.Shell() value.
func ForShell(shell string) (Dialect, error) {
	switch shell {
	case "sh":
		return SH, nil
	case "powershell":
		return PowerShell, nil
	}
	return Dialect{}, fmt.Errorf("unknown shell %q: want \"sh\" or \"powershell\"", shell)
}

// SH is the POSIX dialect.
var SH = Dialect{
	Name: "sh",
	Write: func(stdout, stderr string) string {
		return "printf %s " + shq(stdout) + "; printf %s " + shq(stderr) + " >&2"
	},
	WriteExit: func(stdout string, status int) string {
		return fmt.Sprintf("printf %%s %s; exit %d", shq(stdout), status)
	},
	Cat:            "cat",
	ReadyThenDrain: "printf ready; cat >/dev/null; printf done",
	Large: func(n int) string {
		// yes(1) and head(1) stream; nothing holds the whole output.
		return fmt.Sprintf("yes %s | tr -d '\\n' | head -c %d", LargeChunk, n*len(LargeChunk))
	},
	// The sleeper is a child, not the shell itself, so a transport that
	// only kills the top process (as an SSH "signal" request does) fails.
	PIDThenSleep: "sleep 30 & echo $!; wait",
	Alive: func(pid int) string {
		return fmt.Sprintf("if kill -0 %d 2>/dev/null; then "+
			"if grep -q '^State:[[:space:]]*Z' /proc/%d/status 2>/dev/null; then exit 1; fi; exit 0; fi; exit 1", pid, pid)
	},
	TempDir:   "mktemp -d",
	RemoveAll: func(p string) string { return "rm -rf -- " + shq(p) },
	SHA256: func(p string) string {
		return "sha256sum < " + shq(p) + " | cut -c1-64 | tr -d '\\n'"
	},
	Mode: func(p string) string { return "stat -c %a -- " + shq(p) + " | tr -d '\\n'" },
	List: func(dir string) string { return "ls -A -- " + shq(dir) },
	Join: func(dir, name string) string { return strings.TrimSuffix(dir, "/") + "/" + name },
}

// PowerShell is the Windows dialect, built only from the PS* snippets.
var PowerShell = Dialect{
	Name: "powershell",
	Write: func(stdout, stderr string) string {
		return PSWriteOut(stdout) + "; " + PSWriteErr(stderr)
	},
	WriteExit: func(stdout string, status int) string {
		return PSWriteOut(stdout) + "; " + PSExit(status)
	},
	Cat:            PSCat,
	ReadyThenDrain: PSReadyThenDrain,
	Large:          PSLarge,
	PIDThenSleep:   PSPIDThenSleep,
	Alive:          PSAlive,
	TempDir:        PSTempDir,
	RemoveAll:      PSRemoveAll,
	SHA256:         PSSHA256,
	List:           PSList,
	Join: func(dir, name string) string {
		if strings.Contains(dir, "/") && !strings.Contains(dir, `\`) {
			return strings.TrimSuffix(dir, "/") + "/" + name
		}
		return strings.TrimSuffix(dir, `\`) + `\` + name
	},
}

// The PowerShell vocabulary. Composite commands join snippets with "; ".
const (
	// PSCat writes each line of stdin followed by a newline.
	PSCat = "foreach ($line in $input) { [Console]::Out.WriteLine($line) }"
	// PSReadyThenDrain: see Dialect.ReadyThenDrain.
	PSReadyThenDrain = "[Console]::Out.Write('ready'); [Console]::Out.Flush(); $null = @($input); [Console]::Out.Write('done')"
	// PSPIDThenSleep writes the shell's own process id, then sleeps.
	PSPIDThenSleep = "[Console]::Out.WriteLine($PID); [Console]::Out.Flush(); Start-Sleep -Seconds 30"
	// PSTempDir creates a directory under the temp path and writes its path.
	PSTempDir = "$d = Join-Path ([IO.Path]::GetTempPath()) ([IO.Path]::GetRandomFileName()); $null = New-Item -ItemType Directory -Path $d; [Console]::Out.Write($d)"
)

// PSWriteOut writes s to stdout without a newline.
func PSWriteOut(s string) string { return "[Console]::Out.Write(" + psq(s) + ")" }

// PSWriteErr writes s to stderr without a newline.
func PSWriteErr(s string) string { return "[Console]::Error.Write(" + psq(s) + ")" }

// PSExit exits with status.
func PSExit(status int) string { return fmt.Sprintf("exit %d", status) }

// PSLarge writes LargeChunk n times.
func PSLarge(n int) string {
	return fmt.Sprintf("[Console]::Out.Write(%s * %d)", psq(LargeChunk), n)
}

// PSAlive exits 0 if process pid exists, 1 otherwise.
func PSAlive(pid int) string {
	return fmt.Sprintf("if (Get-Process -Id %d -ErrorAction SilentlyContinue) { exit 0 } else { exit 1 }", pid)
}

// PSRemoveAll removes path recursively.
func PSRemoveAll(path string) string {
	return "Remove-Item -LiteralPath " + psq(path) + " -Recurse -Force"
}

// PSSHA256 writes the lower-case hex SHA-256 of path.
func PSSHA256(path string) string {
	return "[Console]::Out.Write((Get-FileHash -Algorithm SHA256 -LiteralPath " + psq(path) + ").Hash.ToLower())"
}

// PSList writes the names of the entries in dir, one per line.
func PSList(dir string) string {
	return "Get-ChildItem -Force -Name -LiteralPath " + psq(dir) + " | ForEach-Object { [Console]::Out.WriteLine($_) }"
}

// shq quotes for sh. The suite keeps its own copy so it does not trust the
// quoting of the transport it tests.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// psq quotes a PowerShell verbatim string.
func psq(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
