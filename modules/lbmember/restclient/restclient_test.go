package restclient

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSend(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, r.Method+" "+r.Header.Get("Content-Type")+" "+string(b))
	}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name string
		body any
		want string
	}{
		{"no body, no content type", nil, "GET  "},
		{"body as JSON", map[string]bool{"drain": true}, `GET application/json {"drain":true}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := NewRequest(t.Context(), http.MethodGet, srv.URL, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			status, answer, err := Send(srv.Client(), req)
			if err != nil || status != http.StatusTeapot || string(answer) != tc.want {
				t.Errorf("Send = %d %q %v, want 418 %q", status, answer, err, tc.want)
			}
		})
	}
}

func TestSendBoundsTheAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", maxAnswer+10))
	}))
	t.Cleanup(srv.Close)
	req, err := NewRequest(t.Context(), http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, answer, err := Send(srv.Client(), req); err != nil || len(answer) != maxAnswer {
		t.Errorf("Send read %d bytes, %v; want %d", len(answer), err, maxAnswer)
	}
}

func TestDecode(t *testing.T) {
	if err := Decode([]byte("not json"), nil); err != nil {
		t.Errorf("Decode into nil = %v, want the answer ignored", err)
	}
	var v struct{ A int }
	if err := Decode([]byte(`{"A":1}`), &v); err != nil || v.A != 1 {
		t.Errorf("Decode = %+v, %v", v, err)
	}
	if err := Decode([]byte("<html>"), &v); err == nil || !strings.HasPrefix(err.Error(), "decode the answer: ") {
		t.Errorf("Decode of HTML = %v, want a decode error", err)
	}
}
