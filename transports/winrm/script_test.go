package winrm_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/osrun/osrun/transports/winrm"
	"github.com/osrun/osrun/transports/winrm/winrmtest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestTemplatesGolden pins every script osrun sends, rendered with
// awkward inputs, so a change to what runs on production hosts shows up in
// review as a diff of testdata/*.golden.
func TestTemplatesGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		data any
	}{
		{"run.ps1", winrm.RunData{Script: "Get-Service W3SVC | Restart-Service\nexit 3"}},
		{"stdin.ps1", nil},
		{"sha256.ps1", winrm.PathData{Path: `C:\Program Files\OutSystems\it's ‘here’.zip`}},
		{"upload.ps1", winrm.PathData{Path: `D:\osrun\$env:TEMP\a'b.msi`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := winrm.Render(tc.name, tc.data)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s changed; review and run go test -update:\n%s", tc.name, got)
			}
		})
	}
}

// TestTemplateMarkers keeps the templates and winrmtest.Host in sync: the
// host finds scripts by these markers.
func TestTemplateMarkers(t *testing.T) {
	for name, marker := range map[string]string{
		"stdin.ps1":  winrmtest.MarkerStdin,
		"sha256.ps1": winrmtest.MarkerChecksum,
		"upload.ps1": winrmtest.MarkerUpload,
	} {
		s, err := winrm.Render(name, winrm.PathData{Path: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(s, marker+"\n") {
			t.Errorf("%s does not start with %q", name, marker)
		}
	}
	s, _ := winrm.Render("run.ps1", winrm.RunData{Script: "USER"})
	if !strings.Contains(s, "\n"+winrmtest.MarkerBegin+"\nUSER\n"+winrmtest.MarkerEnd+"\n") {
		t.Errorf("run.ps1 does not frame the script with %q and %q", winrmtest.MarkerBegin, winrmtest.MarkerEnd)
	}
}

func TestEncodeCommand(t *testing.T) {
	for _, script := range []string{"Write-Output 'héllo'", "emoji 😀 & <tags> \"q\"\r\n"} {
		line := winrm.EncodeCommand(script)
		got, ok, err := winrmtest.DecodeCommandLine(line)
		if err != nil || !ok || got != script {
			t.Errorf("decode(encode(%q)) = %q, %v, %v", script, got, ok, err)
		}
	}
}

func TestQuote(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"", "''"},
		{"plain", "'plain'"},
		{"it's", "'it''s'"},
		{"$env:PATH `n \"x\"", "'$env:PATH `n \"x\"'"},
		{"‘curly’", "'‘‘curly’’'"},
		{"‚low‛", "'‚‚low‛‛'"},
		{"line\nbreak", "'line\nbreak'"},
	} {
		got, err := winrm.Quote(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Quote(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"nul\x00", "\xff"} {
		if _, err := winrm.Quote(bad); err == nil {
			t.Errorf("Quote(%q) succeeded", bad)
		}
	}
}

// FuzzQuote checks, with an independent parser of PowerShell verbatim
// strings, that a quoted value always reads back unchanged: no input can
// end the literal early.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "a'b", "''", "‘’‚‛", "$(Remove-Item C:\\)", "'; Stop-Computer; '"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := winrm.Quote(s)
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			if err == nil {
				t.Fatalf("Quote(%q) accepted invalid input", s)
			}
			return
		}
		if err != nil {
			t.Fatalf("Quote(%q): %v", s, err)
		}
		back, err := winrmtest.Unquote(q)
		if err != nil {
			t.Fatalf("Unquote(Quote(%q)) = %v (quoted %q)", s, err, q)
		}
		if back != s {
			t.Fatalf("Unquote(Quote(%q)) = %q", s, back)
		}
	})
}

func TestCLIXMLWriter(t *testing.T) {
	doc := "#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">" +
		"<Obj S=\"progress\" RefId=\"0\"><MS><S N=\"Name\">ignored property</S></MS></Obj>" +
		"<S S=\"Error\">Stop-Service : Cannot find any service with service name 'W3SVCX'._x000D__x000A_</S>" +
		"<S S=\"Error\">under_x005F_score &amp; more_x000D__x000A_</S>" +
		"<S S=\"Verbose\">details_x000D__x000A_</S></Objs>"
	want := "Stop-Service : Cannot find any service with service name 'W3SVCX'.\r\nunder_score & more\r\nVERBOSE: details\r\n"
	for _, tc := range []struct {
		name   string
		chunks []string
		want   string
	}{
		{"whole", []string{doc}, want},
		{"split everywhere", splitEvery(doc, 7), want},
		{"plain text passes through", []string{"plain ", "error\r\n"}, "plain error\r\n"},
		{"short plain text", []string{"#<"}, "#<"},
		{"two documents", []string{doc, doc}, want + want},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w := winrm.NewCLIXMLWriter(&out)
			for _, c := range tc.chunks {
				if _, err := w.Write([]byte(c)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("got %q, want %q", out.String(), tc.want)
			}
		})
	}
}

func splitEvery(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}
