package control

import (
	"io"
	"strings"
	"testing"
)

func TestReader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []map[string]string
		wantErr string
	}{
		{
			name: "two paragraphs with continuation",
			in:   "Package: a\nVersion: 1.0\nDescription: short\n long line\n .\n more\n\n\nPackage: b\nversion: 2\n",
			want: []map[string]string{
				{"Package": "a", "Version": "1.0", "Description": "short\n long line\n .\n more"},
				{"Package": "b", "Version": "2"},
			},
		},
		{
			name: "CRLF and leading comments",
			in:   "# comment\r\nTypes: deb\r\nURIs: http://example.invalid/debian\r\n",
			want: []map[string]string{{"Types": "deb", "URIs": "http://example.invalid/debian"}},
		},
		{
			name: "empty value with list below",
			in:   "SHA256:\n abc 12 main/Packages\n def 34 main/Packages.xz\n",
			want: []map[string]string{{"SHA256": "\n abc 12 main/Packages\n def 34 main/Packages.xz"}},
		},
		{name: "continuation first", in: " oops\n", wantErr: "line 1: continuation line before any field"},
		{name: "no colon", in: "Package: a\nbroken\n", wantErr: "line 2: expected"},
		{name: "space in name", in: "Pack age: a\n", wantErr: "line 1: invalid field name"},
		{name: "empty input", in: "\n\n", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := ParseAll(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != len(tc.want) {
				t.Fatalf("got %d paragraphs, want %d", len(ps), len(tc.want))
			}
			for i, w := range tc.want {
				for k, v := range w {
					if got := ps[i].Get(k); got != v {
						t.Errorf("paragraph %d field %s = %q, want %q", i, k, got, v)
					}
				}
				if len(ps[i].Fields) != len(w) {
					t.Errorf("paragraph %d has %d fields, want %d", i, len(ps[i].Fields), len(w))
				}
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	in := "Package: a\nVersion: 1:2.3-4\nDescription: short\n long\n .\n more\nSHA256:\n abc 1 x\n"
	p, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.String(); got != in {
		t.Fatalf("round trip:\n%s\nwant:\n%s", got, in)
	}
	p.Set("version", "5")
	p.Set("Status", "install ok installed")
	p.Delete("Description")
	want := "Package: a\nVersion: 5\nSHA256:\n abc 1 x\nStatus: install ok installed\n"
	if got := p.String(); got != want {
		t.Fatalf("after edits:\n%s\nwant:\n%s", got, want)
	}
	if got := Lines(p.Get("SHA256")); len(got) != 1 || got[0] != "abc 1 x" {
		t.Fatalf("Lines = %q", got)
	}
}

func TestReaderEOF(t *testing.T) {
	r := NewReader(strings.NewReader("A: 1\n"))
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("want io.EOF, got %v", err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("Package: a\nVersion: 1\n\nPackage: b\nDescription: x\n y\n")
	f.Add("SHA256:\n abc 1 x\n")
	f.Add(" bad\n")
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseAll(strings.NewReader(s))
		if err != nil {
			return
		}
		// What we parsed must survive a round trip through String.
		var b strings.Builder
		for _, p := range ps {
			b.WriteString(p.String())
			b.WriteString("\n")
		}
		again, err := ParseAll(strings.NewReader(b.String()))
		if err != nil {
			t.Fatalf("reparse of %q: %v", b.String(), err)
		}
		if len(again) != len(ps) {
			t.Fatalf("reparse changed paragraph count %d → %d", len(ps), len(again))
		}
	})
}
