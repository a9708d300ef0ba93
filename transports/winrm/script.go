package winrm

import (
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"text/template"
	"unicode/utf16"
	"unicode/utf8"
)

// Every line of PowerShell osrun sends to a Windows host is in scripts/,
// so a reviewer can read exactly what runs on a production server.
//
//go:embed scripts/*.ps1
var scriptFS embed.FS

var templates = template.Must(template.New("").
	Funcs(template.FuncMap{"quote": Quote}).
	Option("missingkey=error").
	ParseFS(scriptFS, "scripts/*.ps1"))

func render(name string, data any) (string, error) {
	var b strings.Builder
	if err := templates.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return b.String(), nil
}

// Quote returns s as a PowerShell verbatim string literal ('...'), the one
// form in which nothing ($, `, ", newlines) is interpreted. PowerShell also
// closes such a string at the typographic quotes U+2018-U+201B, so those
// are doubled like the ASCII quote. NUL and invalid UTF-8 cannot survive
// the UTF-16 -EncodedCommand and are refused.
//
// This is the only function that builds a PowerShell string from data.
func Quote(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", errors.New("quote for powershell: string is not valid UTF-8")
	}
	if strings.ContainsRune(s, 0) {
		return "", errors.New("quote for powershell: string contains NUL")
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for _, r := range s {
		if isSingleQuote(r) {
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String(), nil
}

func isSingleQuote(r rune) bool {
	return r == '\'' || r == '\u2018' || r == '\u2019' || r == '\u201A' || r == '\u201B'
}

// powershellPrefix starts every command line: no profile (its output and
// side effects are not ours), no prompts, and no execution policy getting
// in the way of a script passed inline.
const powershellPrefix = "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand "

// encodeCommand returns the command line that runs script: UTF-16LE,
// base64, so no quoting of cmd.exe or PowerShell can alter it.
func encodeCommand(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		b[2*i] = byte(r)
		b[2*i+1] = byte(r >> 8)
	}
	return powershellPrefix + base64.StdEncoding.EncodeToString(b)
}
