// Package hclsource reads osrun's configuration files — inventories,
// playbooks and variable files, HCL native syntax or JSON — within limits,
// so hostile input ends in one located error instead of exhausting the
// parser's stack or memory. Parse and ParseSource are its entry points;
// both the inventory and the playbook loaders go through them.
package hclsource

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Limits on what the loaders read. HCL's parser recurses once per nested
// bracket, string or template, and a Go stack overflow is fatal rather than
// a recoverable panic, so hostile input is refused before it is parsed.
// Real inventories and playbooks are a few hundred kilobytes at most and
// nest a handful of levels.
const (
	MaxBytes   = 4 << 20
	MaxNesting = 128
	// MaxName bounds the names declared in source (hosts, groups, zones,
	// waves, tasks...): they head tables, journal lines and gate ids.
	MaxName = 128
)

// ValidName reports whether name may name something declared in source:
// an HCL identifier (a letter, then letters, digits, underscores and
// dashes) of at most MaxName bytes. Such names cannot carry shell
// metacharacters, quotes, newlines or terminal escapes.
func ValidName(name string) bool {
	return len(name) <= MaxName && hclsyntax.ValidIdentifier(name)
}

// Parse reads and parses filename as HCL native syntax, or JSON for a
// .json file, after checking it against the limits. Files the parser has
// already seen are returned as they are.
func Parse(parser *hclparse.Parser, filename string) (*hcl.File, hcl.Diagnostics) {
	if f := parser.Files()[filename]; f != nil {
		return f, nil
	}
	src, diags := read(filename)
	if diags.HasErrors() {
		return nil, diags
	}
	return ParseSource(parser, filename, src)
}

// ParseSource is Parse for source already in memory (tests, fuzzing).
func ParseSource(parser *hclparse.Parser, filename string, src []byte) (*hcl.File, hcl.Diagnostics) {
	isJSON := strings.HasSuffix(filename, ".json")
	if diags := Check(src, filename, isJSON); diags.HasErrors() {
		return nil, diags
	}
	if isJSON {
		return parser.ParseJSON(src, filename)
	}
	return parser.ParseHCL(src, filename)
}

func read(filename string) ([]byte, hcl.Diagnostics) {
	fail := func(detail string) hcl.Diagnostics {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Failed to read file", Detail: detail}}
	}
	f, err := os.Open(filename)
	if err != nil {
		return nil, fail(fmt.Sprintf("The file %q could not be read: %s.", filename, unwrapPath(err)))
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
		return nil, fail(fmt.Sprintf("%q is not a regular file.", filename))
	}
	src, err := io.ReadAll(io.LimitReader(f, MaxBytes+1))
	if err != nil {
		return nil, fail(fmt.Sprintf("The file %q could not be read: %s.", filename, unwrapPath(err)))
	}
	return src, nil
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Check refuses source that is too large or too deeply nested, with an
// error located at the start of the file or at the first token too deep.
func Check(src []byte, filename string, isJSON bool) hcl.Diagnostics {
	start := hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos}
	if len(src) > MaxBytes {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "File too large",
			Detail:   fmt.Sprintf("%s is larger than %d MiB; inventories, playbooks and variable files are expected to be small.", filename, MaxBytes>>20),
			Subject:  &start,
		}}
	}
	if i := bytes.IndexByte(src, 0); i >= 0 {
		pos := posOf(src, i)
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid character",
			Detail:   "The file contains a NUL byte (0x00); configuration files are text.",
			Subject:  &hcl.Range{Filename: filename, Start: pos, End: hcl.Pos{Line: pos.Line, Column: pos.Column + 1, Byte: i + 1}},
		}}
	}
	var deep *hcl.Range
	if isJSON {
		deep = jsonTooDeep(src, filename)
	} else {
		deep = hclTooDeep(src, filename)
	}
	if deep != nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Too deeply nested",
			Detail:   fmt.Sprintf("Blocks, brackets, braces, strings and templates nest more than %d levels deep here.", MaxNesting),
			Subject:  deep,
		}}
	}
	return nil
}

// posOf is the position of src[i], counting columns in characters as HCL
// does (roughly: bytes of invalid UTF-8 count one each).
func posOf(src []byte, i int) hcl.Pos {
	line := 1 + bytes.Count(src[:i], []byte{'\n'})
	start := bytes.LastIndexByte(src[:i], '\n') + 1
	return hcl.Pos{Line: line, Column: 1 + utf8.RuneCount(src[start:i]), Byte: i}
}

// hclTooDeep finds the first token nested deeper than MaxNesting, using
// HCL's own scanner, which does not recurse.
func hclTooDeep(src []byte, filename string) *hcl.Range {
	tokens, _ := hclsyntax.LexConfig(src, filename, hcl.InitialPos)
	depth := 0
	for i, tok := range tokens {
		switch tok.Type {
		case hclsyntax.TokenOParen, hclsyntax.TokenOBrack, hclsyntax.TokenOBrace,
			hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			depth++
			// %{ if } and %{ for } open a level that %{ endif } and
			// %{ endfor } close, on top of the directive's own braces.
			if tok.Type == hclsyntax.TokenTemplateControl && i+1 < len(tokens) {
				switch string(tokens[i+1].Bytes) {
				case "if", "for":
					depth++
				case "endif", "endfor":
					depth--
				}
			}
		case hclsyntax.TokenCParen, hclsyntax.TokenCBrack, hclsyntax.TokenCBrace,
			hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			depth = max(depth-1, 0)
		}
		if depth > MaxNesting {
			rng := tok.Range
			return &rng
		}
	}
	return nil
}

// jsonTooDeep does the same for JSON, whose only nesting is [ and {.
func jsonTooDeep(src []byte, filename string) *hcl.Range {
	depth, inString, line, col := 0, false, 1, 1
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case inString && c == '\\':
			i++
			col++
		case inString && c == '"':
			inString = false
		case inString:
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			if depth > MaxNesting {
				pos := hcl.Pos{Line: line, Column: col, Byte: i}
				return &hcl.Range{Filename: filename, Start: pos, End: hcl.Pos{Line: line, Column: col + 1, Byte: i + 1}}
			}
		case c == ']' || c == '}':
			depth = max(depth-1, 0)
		}
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return nil
}
