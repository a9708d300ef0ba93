package hostscript_test

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/osrun/osrun/modules/hostscript"
	"github.com/osrun/osrun/modules/hostscript/hostscripttest"
	"github.com/osrun/osrun/transports"
)

func TestExec(t *testing.T) {
	conn := &hostscripttest.ShellConn{Dir: t.TempDir(), Bin: t.TempDir()}
	var mu sync.Mutex
	var progress []string
	out, err := hostscript.Exec(t.Context(), conn, hostscript.Script{
		Text:      "echo one; echo osrun-version=11.31.0; printf 'two\\r\\n'; echo err >&2; echo osrun-not-a-marker; printf last",
		Progress:  func(s string) { mu.Lock(); progress = append(progress, s); mu.Unlock() },
		TailLines: 3,
		Become:    true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := out.Value("version"); !ok || v != "11.31.0" {
		t.Errorf("version = %q, %v", v, ok)
	}
	if len(progress) != 5 {
		t.Errorf("progress = %q, want 5 non-marker lines", progress)
	}
	// Stdout and stderr interleave in any order; the unterminated last line
	// is flushed after the command ends, so it is always last.
	if tail := out.Tail(); len(tail) != 3 || tail[2] != "last" {
		t.Errorf("tail = %q", tail)
	}
	if calls := conn.Calls(); len(calls) != 1 || !calls[0].Become {
		t.Errorf("calls = %+v", calls)
	}
}

func TestExecReturnsOutputOnFailure(t *testing.T) {
	conn := &hostscripttest.ShellConn{Dir: t.TempDir(), Bin: t.TempDir()}
	out, err := hostscript.Exec(t.Context(), conn, hostscript.Script{Text: "echo boom; exit 3", Stdin: strings.NewReader("secret\n")})
	var ee *transports.ExitError
	if !errors.As(err, &ee) || ee.Status != 3 {
		t.Fatalf("err = %v, want exit status 3", err)
	}
	if !reflect.DeepEqual(out.Tail(), []string{"boom"}) {
		t.Errorf("tail = %q", out.Tail())
	}
	if got := conn.Calls()[0].Stdin; got != "secret\n" {
		t.Errorf("stdin = %q", got)
	}
}

func TestID(t *testing.T) {
	tests := map[string]string{
		"# osrun:service/windows_status\r\n$x = 1": "service/windows_status",
		"# osrun:installer/j2ee_state\n":           "installer/j2ee_state",
		"echo hi":                                  "",
		"":                                         "",
	}
	for in, want := range tests {
		if got := hostscript.ID(in); got != want {
			t.Errorf("ID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRender(t *testing.T) {
	fsys := fstest.MapFS{
		"a.sh":  {Data: []byte("name={{sh .Name}}\n")},
		"b.ps1": {Data: []byte("$Name = {{ps .Name}}\n")},
	}
	ts, err := hostscript.Parse(fsys, "*.sh", "*.ps1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, tmpl string
		data       any
		want       string
		wantErr    string
	}{
		{"sh quoted", "a.sh", map[string]string{"Name": "it's"}, "name='it'\\''s'\n", ""},
		{"ps quoted", "b.ps1", map[string]string{"Name": "it's"}, "$Name = 'it''s'\n", ""},
		{"missing field is an error", "a.sh", map[string]string{}, "", "map has no entry"},
		{"NUL refused", "b.ps1", map[string]string{"Name": "a\x00"}, "", "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ts.Render(tt.tmpl, tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
