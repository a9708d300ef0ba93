package hostscripttest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osrun/osrun/transports"
)

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestUploads checks the promises both test Conns make about uploads,
// since module tests rely on them: verify the digest, skip a destination
// that already has the content.
func TestUploads(t *testing.T) {
	dir := t.TempDir()
	conns := map[string]transports.Conn{
		"ShellConn": &ShellConn{Dir: dir, Bin: dir},
		"FakeConn":  &FakeConn{ShellName: "powershell"},
	}
	for name, c := range conns {
		t.Run(name, func(t *testing.T) {
			dst := filepath.Join(dir, name+".bin")
			up := func(content, sum string) error {
				return c.Upload(t.Context(), transports.Upload{Src: strings.NewReader(content), Size: int64(len(content)), Dst: dst, SHA256: sum})
			}
			if err := up("abc", digest("other")); err == nil {
				t.Fatal("a wrong digest was accepted")
			}
			if err := up("abc", digest("abc")); err != nil {
				t.Fatal(err)
			}
			if err := up("abc", digest("abc")); err != nil {
				t.Fatal(err)
			}
			var ups []Uploaded
			switch c := c.(type) {
			case *ShellConn:
				ups = c.Uploads()
				if b, _ := os.ReadFile(dst); string(b) != "abc" {
					t.Errorf("file holds %q", b)
				}
			case *FakeConn:
				ups = c.Uploads()
			}
			if len(ups) != 2 || ups[0].Skipped || !ups[1].Skipped {
				t.Errorf("uploads = %+v", ups)
			}
		})
	}
}

func TestFakeConnReplies(t *testing.T) {
	lost := errors.New("lost")
	c := &FakeConn{ShellName: "sh", Handle: func(call Call) Reply {
		switch call.Command {
		case "fail":
			return Reply{Stderr: "boom", Status: 3}
		case "lost":
			return Reply{Err: lost}
		}
		return Reply{Stdout: "ok"}
	}}
	var out, errOut strings.Builder
	if err := c.Run(t.Context(), &transports.Cmd{Command: "fine", Stdout: &out}); err != nil || out.String() != "ok" {
		t.Errorf("fine: %v %q", err, out.String())
	}
	var ee *transports.ExitError
	if err := c.Run(t.Context(), &transports.Cmd{Command: "fail", Stderr: &errOut}); !errors.As(err, &ee) || ee.Status != 3 || errOut.String() != "boom" {
		t.Errorf("fail: %v %q", err, errOut.String())
	}
	if err := c.Run(t.Context(), &transports.Cmd{Command: "lost"}); !errors.Is(err, lost) {
		t.Errorf("lost: %v", err)
	}
	if got := len(c.Calls()); got != 3 {
		t.Errorf("%d calls recorded", got)
	}
}
