package winrm

import (
	"bytes"
	"encoding/xml"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// powershell.exe writes error, warning and verbose records to a redirected
// stderr as CLIXML ("#< CLIXML" then <Objs>...</Objs>). clixmlWriter turns
// them back into the text a console would show and passes anything else
// through untouched, as it arrives.
type clixmlWriter struct {
	w       io.Writer
	buf     []byte
	decided bool // whether the stream starts with the CLIXML header
	clixml  bool
}

const clixmlHeader = "#< CLIXML"

func newCLIXMLWriter(w io.Writer) *clixmlWriter { return &clixmlWriter{w: w} }

func (c *clixmlWriter) Write(p []byte) (int, error) {
	n := len(p)
	c.buf = append(c.buf, p...)
	if !c.decided {
		if len(c.buf) < len(clixmlHeader) && strings.HasPrefix(clixmlHeader, string(c.buf)) {
			return n, nil // too short to tell yet
		}
		c.decided = true
		c.clixml = bytes.HasPrefix(c.buf, []byte(clixmlHeader))
	}
	if !c.clixml {
		_, err := c.w.Write(c.buf)
		c.buf = c.buf[:0]
		return n, err
	}
	// Emit every complete document; keep the rest for the next write. The
	// line break after a document may arrive in a later write than the
	// document: drop it wherever it lands.
	c.buf = bytes.TrimLeft(c.buf, "\r\n")
	for {
		end := bytes.Index(c.buf, []byte("</Objs>"))
		if end < 0 {
			return n, nil
		}
		end += len("</Objs>")
		if _, err := io.WriteString(c.w, decodeCLIXML(string(c.buf[:end]))); err != nil {
			return n, err
		}
		c.buf = bytes.TrimLeft(c.buf[end:], "\r\n")
	}
}

// Flush writes whatever is buffered, decoded if it is a whole document.
func (c *clixmlWriter) Flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.w.Write(c.buf)
	c.buf = nil
	return err
}

var clixmlEscape = regexp.MustCompile(`_x([0-9A-Fa-f]{4})_`)

// decodeCLIXML extracts the string records of one CLIXML document. Errors
// are written as is, other streams with the prefix the console uses;
// progress records are dropped.
func decodeCLIXML(doc string) string {
	doc = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(doc), clixmlHeader))
	d := xml.NewDecoder(strings.NewReader(doc))
	var out strings.Builder
	var stream string
	var inS bool
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "S" {
				continue
			}
			// <S S="Error"> is a stream record; <S N="..."> a property.
			for _, a := range t.Attr {
				if a.Name.Local == "S" {
					inS, stream = true, a.Value
					text.Reset()
				}
			}
		case xml.CharData:
			if inS {
				text.Write(t)
			}
		case xml.EndElement:
			if t.Name.Local != "S" || !inS {
				continue
			}
			inS = false
			s := unescapeCLIXML(text.String())
			switch stream {
			case "Error":
				out.WriteString(s)
			case "Warning":
				out.WriteString("WARNING: " + s)
			case "Verbose":
				out.WriteString("VERBOSE: " + s)
			case "Debug":
				out.WriteString("DEBUG: " + s)
			default:
				out.WriteString(s)
			}
		}
	}
	return out.String()
}

func unescapeCLIXML(s string) string {
	return clixmlEscape.ReplaceAllStringFunc(s, func(m string) string {
		v, err := strconv.ParseUint(m[2:6], 16, 16)
		if err != nil {
			return m
		}
		return string(rune(v))
	})
}
