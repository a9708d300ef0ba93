package html

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/osrun/osrun/runner"
)

// chromium finds the headless browser the report is checked in. CI installs
// Debian's chromium; elsewhere the test is skipped, loudly.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed: CI must install Debian's chromium package to check the HTML report")
	}
	t.Skip("SKIPPING the HTML report rendering check: chromium is not installed (apt-get install -y chromium)")
	return ""
}

// runChromium renders file headless with the given extra flags and
// returns its stdout. Each run gets its own profile directory so parallel
// runs do not share a lock.
func runChromium(t *testing.T, bin, file string, flags ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--window-size=1400,1000",
	}, flags...)
	args = append(args, "file://"+file)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(flags, " "), err, stderr.Bytes())
	}
	return stdout.Bytes()
}

func TestRendersInChromium(t *testing.T) {
	bin := chromium(t)
	report := filepath.Join(t.TempDir(), "run.html")
	if err := os.WriteFile(report, farmReport(t), 0o644); err != nil {
		t.Fatal(err)
	}
	evs, _ := farmEvents()
	tasks := 0
	for _, e := range evs {
		if e.Kind == runner.HostTaskEnd {
			tasks++
		}
	}

	t.Run("screenshot", func(t *testing.T) {
		t.Parallel()
		shot := filepath.Join(t.TempDir(), "run.png")
		runChromium(t, bin, report, "--screenshot="+shot)
		data, err := os.ReadFile(shot)
		if err != nil {
			t.Fatalf("no screenshot: %v", err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("screenshot is not a PNG: %v", err)
		}
		if b := img.Bounds(); b.Dx() != 1400 || b.Dy() != 1000 {
			t.Errorf("screenshot is %dx%d, want 1400x1000", b.Dx(), b.Dy())
		}
		// A blank or error page has a handful of colours; the report's
		// bars, bands and text have many.
		colours := map[uint32]bool{}
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y += 3 {
			for x := b.Min.X; x < b.Max.X; x += 3 {
				r, g, bl, _ := img.At(x, y).RGBA()
				colours[r>>11<<10|g>>11<<5|bl>>11] = true
			}
		}
		if len(data) < 20_000 || len(colours) < 20 {
			t.Errorf("screenshot looks empty: %d bytes, %d colours", len(data), len(colours))
		}
		if dir := os.Getenv("OSRUN_REPORT_SCREENSHOT_DIR"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, "run.png"), data, 0o644) // for a human to look at
		}
	})

	t.Run("dom", func(t *testing.T) {
		t.Parallel()
		dom := string(runChromium(t, bin, report, "--dump-dom"))
		count := func(re string) int { return len(regexp.MustCompile(re).FindAllStringIndex(dom, -1)) }
		checks := []struct {
			what string
			re   string
			want int
		}{
			{"timeline svg", `<svg class="gantt"`, 1},
			{"task bars", `<g class="task" data-host="fe0\d"`, tasks},
			{"failed bar linked to its failure", `<a href="#failure-1"><g class="task" data-host="fe04" data-task="installer.platform" data-status="failed">`, 1},
			{"wave bands in both charts", `<g class="wave">`, 6},
			{"rotation svg", `<svg class="rotation"`, 1},
			{"rotation segments of fe04", `<g class="state" data-host="fe04"`, 3},
			{"recap rows", `<tr class="[^"]*"><td>fe0\d</td>`, 4},
			{"failure section", `<article class="failure" id="failure-1">`, 1},
			{"escaped error text", `Error 1722\. &lt;script&gt;alert\('pwned'\)&lt;/script&gt; &amp; "quotes"`, 1},
			{"no script element", `<script`, 0},
			{"version rows", `<td><code>11\.29\.1</code></td><td>→</td><td><code>11\.31\.0</code></td>`, 3},
		}
		for _, c := range checks {
			if got := count(c.re); got != c.want {
				t.Errorf("%s: %d matches of %s, want %d", c.what, got, c.re, c.want)
			}
		}
		if t.Failed() {
			t.Logf("dumped DOM:\n%s", dom)
		}
	})
}
