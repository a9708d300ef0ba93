package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"

	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/lab/farm"
	"github.com/osrun/osrun/runner"
)

// The safety issue's proof that every secret is masked wherever it could
// surface, on the whole lab farm: osrun runs secretsPlaybook (the
// lab upgrade, plus a wave whose hosts echo a token back on stdout, on
// stderr, in a failing command's message and in a shell's "not found"
// error, and the controller's admin password) over WinRM and SSH, with
// every output channel on: JSON events, the text view with --diff, the
// live view on a terminal, JUnit and HTML reports, the journals and locks
// in --state-dir. It runs with wrong credentials (a WinRM password the
// host rejects, a become password its sudo refuses), fails (an installer
// whose log quotes the secrets) with its FARM STATE NOW, resumes twice,
// and runs osrun status, preflight, validate, plan, inventory, apply
// --check, and apply --lab with a farm of osrun's own. Then every byte
// osrun wrote is searched for every secret the runs knew (the labs' WinRM
// passwords, Service Center tokens and SSH client keys, the test's own),
// raw, in parts of 16 bytes (what a cut leaves), and in the encodings a
// leak could take: JSON, HTML/XML, URL and Go quoting, hex, base64
// (standard and URL, at every alignment), UTF-16LE (raw, hex and base64:
// PowerShell's -EncodedCommand). A leak is reported with its file, its
// byte offsets and the text around it.
//
// The test could fail: the J2EE hosts must have received the token, the
// hosts' echoes must show in osrun's output as secret.Redacted where the
// token was, and the search itself is checked on planted leaks first.
func TestSecretsLab(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two lab farms and osrun fourteen times")
	}
	bin, err := exec.LookPath("osrun") // the test binary, as TestMain registers it
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	f, vars := startLabFarm(t, farm.Config{Zones: 1, FrontendsPerZone: 4, MaxDuration: 2 * time.Minute, MaxRequests: 1 << 30})
	playbook := secretsPlaybook(t)

	// The test's own secrets: the token every host echoes (with the
	// characters JSON and HTML escape), the word a host is told to run,
	// the admin password that travels on the controller's stdin.
	token := "tok3n<" + randomText(t) + ">&Zq"
	word := "w0rd-" + randomText(t)
	admin := `Adm1n"` + randomText(t) + `<pw>`
	wrongPassword, becomePassword := "wr0ng-"+randomText(t), "bec0me-"+randomText(t)
	field, trimmed := "f1eld-"+randomText(t), "tr1mmed-"+randomText(t)
	creds, padded := `{"user": "osadmin", "token": "`+field+`"}`, "  "+trimmed+"\n"
	secrets := labSecrets(t, f.Dir())
	secrets = append(secrets,
		namedSecret{`env("OSRUN_LAB_TOKEN")`, token, false},
		namedSecret{`env("OSRUN_LAB_WORD")`, word, false},
		namedSecret{`env("OSRUN_LAB_ADMIN_PASSWORD")`, admin, false},
		namedSecret{`env("OSRUN_LAB_WRONG_PASSWORD")`, wrongPassword, false},
		namedSecret{`env("OSRUN_LAB_BECOME_PASSWORD")`, becomePassword, false},
		namedSecret{`env("OSRUN_LAB_CREDS")`, creds, true},
		namedSecret{`jsondecode(env("OSRUN_LAB_CREDS")).token`, field, false},
		namedSecret{`env("OSRUN_LAB_PADDED")`, padded, false},
		namedSecret{`trimspace(env("OSRUN_LAB_PADDED"))`, trimmed, false},
	)
	// GORACE: a race-enabled osrun need not wait a second before exiting.
	env := append(os.Environ(), "NO_COLOR=1", "GORACE=atexit_sleep_ms=0",
		"OSRUN_LAB_TOKEN="+token, "OSRUN_LAB_WORD="+word, "OSRUN_LAB_ADMIN_PASSWORD="+admin,
		"OSRUN_LAB_WRONG_PASSWORD="+wrongPassword, "OSRUN_LAB_BECOME_PASSWORD="+becomePassword,
		"OSRUN_LAB_CREDS="+creds, "OSRUN_LAB_PADDED="+padded)

	// Installers that fail and log what a careless host would: the error
	// osrun reports tails that log. The .NET controller fails the first
	// run, the J2EE fe02 the first resume; the second resume ends the
	// upgrade.
	dotnet, j2ee := f.Frontend("fe01"), f.Frontend("fe02")
	if dotnet == nil || dotnet.Windows == nil || j2ee == nil || j2ee.Linux == nil {
		t.Fatal("the lab's fe01 is not a .NET front-end or its fe02 not a J2EE one")
	}
	careless := "Login failed: token " + token + ", admin password " + admin
	dotnet.Windows.FailInstaller(1603, careless)

	out := t.TempDir()   // every stream and report osrun writes
	state := t.TempDir() // its journals, locks and approvals
	common := []string{"-i", f.Inventory(), "--var-file", vars}
	runArgs := append(slices.Clone(common), "--state-dir", state, "--poll-interval", labPoll.String(), playbook)
	// osrun runs the command line; a name ending in "-tty" runs it with
	// its stdout on a terminal, where apply draws its live view.
	osrun := func(name string, want int, args ...string) (stdout []byte) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		var err error
		if strings.HasSuffix(name, "-tty") {
			err = runOnTerminal(t, cmd, &o)
		} else {
			err = cmd.Run()
		}
		code := cmd.ProcessState.ExitCode()
		if err != nil && code < 0 {
			t.Fatalf("osrun %s: %v", name, err)
		}
		for suffix, b := range map[string][]byte{".stdout": o.Bytes(), ".stderr": e.Bytes()} {
			if err := os.WriteFile(filepath.Join(out, name+suffix), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if code != want {
			t.Fatalf("osrun %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", name, code, want, o.Bytes(), e.Bytes())
		}
		return o.Bytes()
	}
	reports := func(name string) []string {
		return []string{"--diff", "--junit", filepath.Join(out, name+"-junit.xml"), "--report", filepath.Join(out, name+"-report.html")}
	}

	// First the error paths of credentials: the same farm through an
	// inventory with a wrong WinRM password and a become password the
	// lab's sudo refuses; the run stops in its first wave, before any
	// change. First, because the lab's .NET hosts accept any password on
	// a connection their TLS proxy already authenticated for a client
	// before.
	wrong := wrongCredentials(t, f)
	wrongArgs := []string{"-i", wrong, "--var-file", vars, playbook}
	osrun("0-inventory-json", ExitOK, "inventory", "--json", "-i", wrong)
	osrun("0-preflight", ExitPreflight, append([]string{"preflight"}, wrongArgs...)...)
	osrun("0-apply", ExitBudget, slices.Concat([]string{"apply", "--skip-preflight", "--state-dir", filepath.Join(state, "wrong")}, reports("0"), wrongArgs)...)

	osrun("1-validate", ExitOK, append([]string{"validate"}, append(common, playbook)...)...)
	osrun("2-inventory", ExitOK, "inventory", "-i", f.Inventory())
	osrun("3-preflight", ExitOK, append([]string{"preflight"}, append(common, playbook)...)...)
	osrun("3-plan", ExitOK, append([]string{"plan"}, append(common, playbook)...)...)
	osrun("3-plan-json", ExitOK, append([]string{"plan", "--json"}, append(common, playbook)...)...)
	osrun("3-check", ExitOK, slices.Concat([]string{"apply", "--check"}, reports("3"), runArgs)...)
	events := osrun("4-apply-json", ExitBudget, slices.Concat([]string{"apply", "--output", "json"}, reports("4"), runArgs)...)
	// --live reads every host again, over the same credentials.
	if out := osrun("5-status", ExitOK, slices.Concat([]string{"status", "--live", "--state-dir", state}, common, []string{playbook})...); !bytes.Contains(out, []byte("FARM STATE NOW")) {
		t.Errorf("status --live printed no live state:\n%s", out)
	}
	dotnet.Windows.FailInstaller(0, "")
	if err := j2ee.Linux.FailInstaller(careless); err != nil {
		t.Fatal(err)
	}
	resumed := osrun("6-apply-resume", ExitBudget, slices.Concat([]string{"apply", "--resume"}, reports("6"), runArgs)...)
	if err := j2ee.Linux.FailInstaller(""); err != nil {
		t.Fatal(err)
	}
	screen := osrun("7-apply-resume-tty", ExitOK, slices.Concat([]string{"apply", "--resume"}, reports("7"), runArgs)...)
	var after struct {
		Run  struct{ Ended bool } `json:"run"`
		Live []struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"live"`
	}
	if out := osrun("8-status", ExitOK, slices.Concat([]string{"status", "--live", "--json", "--state-dir", state}, common, []string{playbook})...); json.Unmarshal(out, &after) != nil || !after.Run.Ended || len(after.Live) == 0 {
		t.Errorf("status --live --json after the upgrade: %+v from\n%s", after, out)
	}

	// apply --lab: osrun runs a farm of its own, whose secrets the test
	// reads from --lab-dir once it has ended.
	labDir := filepath.Join(t.TempDir(), "lab")
	osrun("9-apply-lab", ExitOK, slices.Concat([]string{"apply", "--lab", "--lab-dir", labDir, "--lab-zones", "1", "--lab-frontends", "2",
		"--state-dir", filepath.Join(state, "lab")}, reports("9"), []string{playbook})...)
	secrets = append(secrets, labSecrets(t, labDir)...)
	// Secrets that surface only derived (a JSON field, a trimmed value) or
	// in part (a command's output tail cut inside a token).
	{
		leaky, err := filepath.Abs("testdata/secrets_derived.hcl")
		if err != nil {
			t.Fatal(err)
		}
		// The chatty command's output is the token's line and pad bytes:
		// 1 byte more than 64 KiB, so the tail kept starts at the token's
		// second character.
		pad := strconv.Itoa(64<<10 - len(token+"\n") + 1)
		echoed := osrun("10-apply-derived", ExitOK, slices.Concat([]string{"apply", "-i", f.Inventory(), "--var", "pad=" + pad,
			"--state-dir", filepath.Join(state, "derived")}, reports("10"), []string{leaky})...)
		if n := bytes.Count(echoed, []byte("field="+secret.Redacted+" trimmed="+secret.Redacted)); n < len(f.Frontends()) {
			t.Errorf("the derived values do not show masked for every host (%d times):\n%s", n, echoed)
		}
	}
	if v := f.Verdict(); !v.OK() {
		t.Errorf("the lab saw downtime:\n%s", v)
	}

	// The secrets surfaced, masked. The J2EE hosts received the token and
	// the word in their command lines; every host's echoes are in the
	// events with the placeholder where the secret was.
	for _, fe := range f.Frontends() {
		if fe.Linux == nil {
			continue
		}
		cmds := strings.Join(fe.Linux.Commands(), "\n")
		if !strings.Contains(cmds, "bad token="+token) || !strings.Contains(cmds, word) {
			t.Errorf("%s never received the token or the word: the test proves nothing about them", fe.Name)
		}
	}
	checkMasked(t, events, f.Frontends())
	if !bytes.Contains(resumed, []byte("token "+secret.Redacted+", admin password "+secret.Redacted)) {
		t.Errorf("the J2EE installer's log, which quotes the secrets, does not show in the resumed run's text masked:\n%s", resumed)
	}
	if !bytes.Contains(screen, []byte("\x1b[K")) || !bytes.Contains(screen, []byte("RECAP (success)")) {
		t.Errorf("the last resume drew no live view on its terminal:\n%q", screen)
	}
	for _, name := range []string{"4-apply-json", "6-apply-resume"} {
		if b, _ := os.ReadFile(filepath.Join(out, name+".stderr")); !bytes.Contains(b, []byte("FARM STATE NOW")) {
			t.Errorf("osrun %s printed no FARM STATE NOW:\n%s", name, b)
		}
	}
	for _, report := range []string{"4-junit.xml", "4-report.html", "7-junit.xml", "7-report.html"} {
		if b, _ := os.ReadFile(filepath.Join(out, report)); !bytes.Contains(b, []byte("token=")) {
			t.Errorf("%s does not report the hosts' echoes, so it proves nothing", report)
		}
	}

	// Every byte osrun wrote, searched for every secret in every form.
	needles := secretNeedles(secrets)
	checkSearch(t, needles, secrets)
	written := 0
	for _, dir := range []string{out, state} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			written += len(b)
			reportLeaks(t, path, b, findLeaks(b, needles))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("searched %d bytes osrun wrote for %d secrets in %d forms; %s in all", written, len(secrets), len(needles), time.Since(begin).Round(time.Millisecond))
}

// namedSecret is one secret value and where it came from. wholeOnly
// marks secrets with parts that are not secret (a key file's header and
// public half, a JSON document's keys): they are searched for whole only.
type namedSecret struct {
	name, value string
	wholeOnly   bool
}

// partLen is the length of the parts of secrets searched for: long enough
// that random text does not match one by chance.
const partLen = 16

func randomText(t *testing.T) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// labSecrets reads the secrets the lab farm wrote for its inventory:
// every file under secrets/ (read with file()), and the SSH client key
// (a path the transport reads): its PEM body lines and its seed.
func labSecrets(t *testing.T, dir string) []namedSecret {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "secrets", "*"))
	if err != nil || len(files) < 2 {
		t.Fatalf("the lab wrote %d secrets (%v), want its WinRM password and Service Center token at least", len(files), err)
	}
	var out []namedSecret
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, namedSecret{"secrets/" + filepath.Base(p), string(b), false})
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, "keys", "id_ed25519"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		t.Fatal("keys/id_ed25519: no PEM block")
	}
	body := strings.Fields(string(keyPEM))
	for i, line := range body {
		if len(line) >= 40 { // the base64 lines, not the armour
			out = append(out, namedSecret{fmt.Sprintf("keys/id_ed25519 line %d", i), line, true})
		}
	}
	key, err := gossh.ParseRawPrivateKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	priv, ok := key.(*ed25519.PrivateKey)
	if !ok {
		t.Fatalf("keys/id_ed25519 is a %T, want an ed25519 key", key)
	}
	out = append(out, namedSecret{"keys/id_ed25519 seed", string(priv.Seed()), false})
	return out
}

// runOnTerminal runs cmd with its stdout on a new pseudo-terminal of
// 160×50, and copies what the terminal shows to out.
func runOnTerminal(t *testing.T, cmd *exec.Cmd, out io.Writer) error {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ptm.Close()
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(pts.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 50, Col: 160}); err != nil {
		pts.Close()
		t.Fatal(err)
	}
	cmd.Stdout = pts
	err = cmd.Start()
	pts.Close() // the child has its own
	if err != nil {
		return err
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		io.Copy(out, ptm) // ends with EIO once the child closed the terminal
	}()
	err = cmd.Wait()
	<-copied
	return err
}

// wrongCredentials writes, next to the farm's inventory, one that reads
// a wrong WinRM password and a become password from env().
func wrongCredentials(t *testing.T, f *farm.Farm) string {
	t.Helper()
	b, err := os.ReadFile(f.Inventory())
	if err != nil {
		t.Fatal(err)
	}
	inv := string(b)
	for from, to := range map[string]string{
		`password          = file("secrets/winrm-password")`: `password          = env("OSRUN_LAB_WRONG_PASSWORD")`,
		`become            = true`:                           `become            = true` + "\n    become_password   = env(\"OSRUN_LAB_BECOME_PASSWORD\")",
	} {
		if !strings.Contains(inv, from) {
			t.Fatalf("the lab's inventory has no %q:\n%s", from, inv)
		}
		inv = strings.Replace(inv, from, to, 1)
	}
	path := filepath.Join(f.Dir(), "wrong-credentials.hcl")
	if err := os.WriteFile(path, []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// needle is one form a secret could take in osrun's output.
type needle struct {
	secret, form string // the secret's name; "raw", "base64 at offset 1"…
	b            []byte
}

// secretNeedles returns every form of every secret to search for.
func secretNeedles(secrets []namedSecret) []needle {
	var out []needle
	seen := map[string]bool{}
	add := func(s namedSecret, enc string, b []byte) {
		if len(b) < 8 || seen[string(b)] {
			return
		}
		seen[string(b)] = true
		out = append(out, needle{s.name, enc, b})
	}
	for _, s := range secrets {
		raw := []byte(s.value)
		wide := utf16LE(s.value)
		add(s, "raw", raw)
		if !s.wholeOnly {
			// Part of a secret, as a cut would leave it.
			for i := 0; i+partLen < len(raw); i++ {
				add(s, fmt.Sprintf("part [%d:%d]", i, i+partLen), raw[i:i+partLen])
			}
		}
		if js, err := json.Marshal(s.value); err == nil {
			add(s, "JSON", js[1:len(js)-1])
		}
		add(s, "HTML", []byte(html.EscapeString(s.value)))
		add(s, "URL query", []byte(url.QueryEscape(s.value)))
		add(s, "URL path", []byte(url.PathEscape(s.value)))
		q := strconv.Quote(s.value)
		add(s, "Go quoted", []byte(q[1:len(q)-1]))
		add(s, "hex", []byte(hex.EncodeToString(raw)))
		add(s, "HEX", []byte(strings.ToUpper(hex.EncodeToString(raw))))
		add(s, "UTF-16LE", wide)
		add(s, "UTF-16LE hex", []byte(hex.EncodeToString(wide)))
		for _, enc := range []struct {
			name string
			e    *base64.Encoding
		}{{"base64", base64.StdEncoding}, {"base64url", base64.URLEncoding}} {
			for k := range 3 {
				add(s, fmt.Sprintf("%s at offset %d", enc.name, k), base64Core(enc.e, raw, k))
				add(s, fmt.Sprintf("UTF-16LE %s at offset %d", enc.name, k), base64Core(enc.e, wide, k))
			}
		}
	}
	return out
}

func utf16LE(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		b[2*i], b[2*i+1] = byte(r), byte(r>>8)
	}
	return b
}

// base64Core is the part of the base64 encoding of b that is the same
// whatever surrounds b, when b starts k bytes (mod 3) into the encoded
// data: the 4-character groups made of b's bytes alone.
func base64Core(e *base64.Encoding, b []byte, k int) []byte {
	enc := e.EncodeToString(append(make([]byte, k), b...))
	from, to := 4*((k+2)/3), 4*((k+len(b))/3)
	if to <= from {
		return nil
	}
	return []byte(enc[from:to])
}

type leak struct {
	offset int
	needle needle
}

// findLeaks returns where any needle occurs in b.
func findLeaks(b []byte, needles []needle) []leak {
	var out []leak
	for _, n := range needles {
		for at := 0; ; {
			i := bytes.Index(b[at:], n.b)
			if i < 0 {
				break
			}
			out = append(out, leak{at + i, n})
			at += i + 1
		}
	}
	return out
}

// reportLeaks fails the test with the leaks found in one file, once per
// secret: the forms it was found in, their offsets, the text around the
// first.
func reportLeaks(t *testing.T, path string, b []byte, leaks []leak) {
	t.Helper()
	var order []string
	found := map[string][]leak{}
	for _, l := range leaks {
		if found[l.needle.secret] == nil {
			order = append(order, l.needle.secret)
		}
		found[l.needle.secret] = append(found[l.needle.secret], l)
	}
	for _, name := range order {
		var forms []string
		var offsets []int // of the first form found
		for _, l := range found[name] {
			if !slices.Contains(forms, l.needle.form) {
				forms = append(forms, l.needle.form)
			}
			if l.needle.form == forms[0] {
				offsets = append(offsets, l.offset)
			}
		}
		if len(forms) > 3 {
			forms = append(forms[:3], fmt.Sprintf("%d more", len(forms)-3))
		}
		first := offsets[0]
		t.Errorf("leak: %s: %s as %s; as %s at byte offsets %v, the first in %q",
			path, name, strings.Join(forms, ", "), forms[0], offsets, b[max(0, first-40):min(len(b), first+80)])
	}
}

// checkSearch proves the search finds each secret planted in each form,
// surrounded by other text, so that finding nothing means something.
func checkSearch(t *testing.T, needles []needle, secrets []namedSecret) {
	t.Helper()
	for _, s := range secrets {
		for k := range 3 {
			pad := strings.Repeat("x", k)
			wide := utf16LE("$p = '" + pad + s.value + "'")
			planted := map[string]string{
				"raw":              "error: " + s.value + "\n",
				"JSON":             func() string { b, _ := json.Marshal(map[string]string{"msg": "a " + s.value}); return string(b) }(),
				"HTML":             "<td>" + html.EscapeString(s.value) + "</td>",
				"base64":           base64.StdEncoding.EncodeToString([]byte(pad + s.value + "!")),
				"-EncodedCommand":  "powershell.exe -EncodedCommand " + base64.StdEncoding.EncodeToString(wide),
				"base64url":        base64.URLEncoding.EncodeToString([]byte(pad + s.value)),
				"UTF-16LE":         string(wide),
				"hex":              "0x" + hex.EncodeToString([]byte(pad+s.value)),
				"UTF-16LE hex ...": hex.EncodeToString(wide),
			}
			if !s.wholeOnly && len(s.value) > partLen+k {
				planted["cut"] = "…" + s.value[k+1:] + "\n"
			}
			for form, text := range planted {
				if len(findLeaks([]byte(text), needles)) == 0 {
					t.Errorf("the search misses %s planted as %s at offset %d", s.name, form, k)
				}
			}
		}
	}
}

// checkMasked proves from the failed run's JSON events that every host
// echoed the token back and osrun showed secret.Redacted in its place.
func checkMasked(t *testing.T, events []byte, fes []*farm.Frontend) {
	t.Helper()
	type seen struct{ shown, failed, run bool }
	got := map[string]*seen{}
	for _, fe := range fes {
		got[fe.Name] = &seen{}
	}
	for _, line := range bytes.Split(bytes.TrimSpace(events), []byte("\n")) {
		var e runner.Event
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("a JSON event that is not one: %v\n%s", err, line)
		}
		s := got[e.Host]
		if e.Kind != runner.HostTaskEnd || s == nil {
			continue
		}
		switch e.Task {
		case "command.token_shown":
			s.shown = e.Status == runner.StatusChanged && strings.Contains(string(e.Output), "shown token="+secret.Redacted) && strings.Contains(e.Msg, secret.Redacted)
		case "command.token_failed":
			s.failed = e.Status == runner.StatusFailed && e.Ignored && strings.Contains(e.Error, "bad token="+secret.Redacted) && strings.Contains(string(e.Output), "out token="+secret.Redacted)
		case "command.token_run":
			s.run = e.Status == runner.StatusFailed && strings.Contains(e.Error, secret.Redacted)
		}
	}
	for name, s := range got {
		if !s.shown || !s.failed || !s.run {
			t.Errorf("%s: the echoes did not surface masked (stdout shown: %v, failed command: %v, unknown command: %v)", name, s.shown, s.failed, s.run)
		}
	}
}

// secretsPlaybook writes the shipped upgrade playbook with the secrets'
// wave (testdata/secrets_echo_wave.hcl) before its first wave, the admin
// password set on the controller's installer, and a short stable period
// for the Deployment Service, and returns its path.
func secretsPlaybook(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../../playbooks/upgrade.hcl")
	if err != nil {
		t.Fatal(err)
	}
	wave, err := os.ReadFile("testdata/secrets_echo_wave.hcl")
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	for _, edit := range []struct{ anchor, with string }{
		{"# Step 1. Set traffic", string(wave) + "\n# Step 1. Set traffic"},
		{"  task \"installer\" \"updating\" {\n", "  task \"installer\" \"updating\" {\n" +
			"    admin_password = contains(host.roles, \"controller\") && host.stack == \"dotnet\" ? env(\"OSRUN_LAB_ADMIN_PASSWORD\") : null\n"},
		{"    wait_timeout = \"45m\"\n", "    wait_timeout = \"45m\"\n    stable       = \"500ms\" # the lab's deployments settle at once\n"},
	} {
		if strings.Count(text, edit.anchor) != 1 {
			t.Fatalf("playbooks/upgrade.hcl no longer has exactly one %q to edit", edit.anchor)
		}
		text = strings.Replace(text, edit.anchor, edit.with, 1)
	}
	path := filepath.Join(t.TempDir(), "secrets_lab.hcl")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
