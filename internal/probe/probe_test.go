package probe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"http://127.0.0.1:8080/health", "http://127.0.0.1:8080/health", ""},
		{"http://localhost/", "http://localhost:80/", ""},
		{"https://[::1]:8443/h?x=1", "https://[::1]:8443/h?x=1", ""},
		{"tcp://127.0.0.1:5432", "tcp://127.0.0.1:5432", ""},
		{"tcp://127.0.0.1", "", "tcp needs a port"},
		{"tcp://127.0.0.1:5432/x", "", "tcp takes no path"},
		{"ftp://h/", "", "scheme must be http, https or tcp"},
		{"http://:80/", "", "no host"},
		{"http://h:99999/", "", "not 1–65535"},
		{"http://u:p@h/", "", "user info"},
		{"127.0.0.1:8080", "", ""}, // url.Parse reads "127.0.0.1" as a scheme: refused below
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		switch {
		case tt.in == "127.0.0.1:8080":
			if err == nil {
				t.Errorf("Parse(%q) accepted a target without scheme", tt.in)
			}
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Parse(%q) error %v, want %q", tt.in, err, tt.err)
			}
		case err != nil:
			t.Errorf("Parse(%q): %v", tt.in, err)
		case got.String() != tt.want:
			t.Errorf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.WriteHeader(204)
		case "/redirect":
			w.WriteHeader(302)
		default:
			w.WriteHeader(503)
		}
	})
	plain := httptest.NewServer(h)
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(h)
	defer tlsSrv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	tests := []struct {
		url     string
		healthy bool
	}{
		{plain.URL + "/ok", true},
		{plain.URL + "/redirect", true},
		{plain.URL + "/down", false},
		{tlsSrv.URL + "/ok", true}, // self-signed: not verified, like Kubernetes' httpGet
		{tlsSrv.URL + "/down", false},
		{"tcp://" + strings.TrimPrefix(plain.URL, "http://"), true},
		{"tcp://" + closed, false},
		{"http://" + closed + "/", false},
	}
	for _, tt := range tests {
		target, err := Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		err = Check(context.Background(), target, 5*time.Second)
		if (err == nil) != tt.healthy {
			t.Errorf("Check(%s) = %v, want healthy %v", tt.url, err, tt.healthy)
		}
	}
}

func TestCheckNotHTTP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Write([]byte("SSH-2.0-x\r\n"))
			c.Close()
		}
	}()
	target, _ := Parse("http://" + ln.Addr().String() + "/")
	if err := Check(context.Background(), target, 5*time.Second); err == nil || !strings.Contains(err.Error(), "not an HTTP status line") {
		t.Errorf("Check = %v, want a refusal of the non-HTTP answer", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:8080/health", "tcp://h:1", "https://[::1]/", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s)
		if err != nil {
			return
		}
		if _, _, err := net.SplitHostPort(got.Addr); err != nil {
			t.Fatalf("Parse(%q).Addr = %q: %v", s, got.Addr, err)
		}
		if got.Scheme != "tcp" && (!strings.HasPrefix(got.Path, "/") || strings.ContainsAny(got.Path, " \r\n")) {
			t.Fatalf("Parse(%q).Path = %q", s, got.Path)
		}
		if strings.ContainsAny(got.Host, "\r\n") {
			t.Fatalf("Parse(%q).Host = %q", s, got.Host)
		}
	})
}
