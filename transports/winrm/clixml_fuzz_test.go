package winrm

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzCLIXML feeds the stderr decoder any stream, whole and split at an
// arbitrary point (WinRM delivers output in chunks of any size): it must
// never panic, must give the same text either way, and must pass a stream
// that is not CLIXML through byte for byte.
func FuzzCLIXML(f *testing.F) {
	doc := "#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">" +
		"<Obj S=\"progress\" RefId=\"0\"><MS><S N=\"Name\">ignored</S></MS></Obj>" +
		"<S S=\"Error\">boom_x000D__x000A_</S><S S=\"Warning\">careful</S></Objs>"
	for _, s := range []string{
		"", "plain text\n", "#<", "#< CLIXML", doc, doc + "\r\n" + doc, doc + "\r\n",
		"#< CLIXML\r\n<Objs><S S=\"Error\">unterminated", "#< CLIXML\r\n<Objs><S S=\"Error\">_xD800__xFFFF__x0000_</S></Objs>",
		"#< CLIXML\r\n<Objs><S S=\"Error\"><![CDATA[</Objs>]]></S></Objs>",
	} {
		f.Add(s, uint16(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, stream string, split uint16) {
		at := int(split) % (len(stream) + 1)
		var whole, chunked bytes.Buffer
		w := newCLIXMLWriter(&whole)
		if n, err := w.Write([]byte(stream)); err != nil || n != len(stream) {
			t.Fatalf("Write = %d, %v", n, err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		c := newCLIXMLWriter(&chunked)
		for _, part := range []string{stream[:at], stream[at:]} {
			if n, err := c.Write([]byte(part)); err != nil || n != len(part) {
				t.Fatalf("Write = %d, %v", n, err)
			}
		}
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		if whole.String() != chunked.String() {
			t.Fatalf("split at %d: %q, whole: %q", at, chunked.String(), whole.String())
		}
		if !strings.HasPrefix(stream, clixmlHeader) && whole.String() != stream {
			t.Fatalf("not CLIXML, yet changed: %q", whole.String())
		}
	})
}
