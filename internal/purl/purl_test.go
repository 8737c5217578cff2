package purl

import (
	"reflect"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	tests := []struct {
		p    PURL
		want string
	}{
		{Deb("libc6", "2.36-9+deb12u10", "amd64", "debian-12"),
			"pkg:deb/debian/libc6@2.36-9%2Bdeb12u10?arch=amd64&distro=debian-12"},
		{Deb("libstdc++6", "1:12.2.0-14", "arm64", "debian-12"),
			"pkg:deb/debian/libstdc%2B%2B6@1%3A12.2.0-14?arch=arm64&distro=debian-12"},
		{Deb("bash", "", "", "debian-13"), "pkg:deb/debian/bash?distro=debian-13"},
		{Deb("a", "1", "all", ""), "pkg:deb/debian/a@1?arch=all"},
		{APK("musl", "1.2.5-r10", "x86_64", "alpine-3.22"),
			"pkg:apk/alpine/musl@1.2.5-r10?arch=x86_64&distro=alpine-3.22"},
		{PURL{Type: "OCI", Name: "static", Version: "sha256:ab",
			Qualifiers: map[string]string{"tag": "v1", "repository_url": "localhost:5000/x/static", "arch": "amd64"}},
			"pkg:oci/static@sha256%3Aab?arch=amd64&repository_url=localhost%3A5000%2Fx%2Fstatic&tag=v1"},
		{PURL{Type: "generic", Namespace: "a b/c", Name: "n", Subpath: "/dir/f i/"},
			"pkg:generic/a%20b/c/n#dir/f%20i"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%+v: got %s, want %s", tt.p, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want PURL
		err  string
	}{
		{in: "pkg:deb/debian/libstdc%2B%2B6@1%3A12.2.0-14?arch=arm64&distro=debian-12",
			want: Deb("libstdc++6", "1:12.2.0-14", "arm64", "debian-12")},
		// syft leaves '+' and ':' unencoded; a query decoder would turn '+' into a space.
		{in: "pkg:deb/debian/libc6@2.36-9+deb12u10?arch=amd64&upstream=glibc%402.36-9%2Bdeb12u10",
			want: PURL{Type: "deb", Namespace: "debian", Name: "libc6", Version: "2.36-9+deb12u10",
				Qualifiers: map[string]string{"arch": "amd64", "upstream": "glibc@2.36-9+deb12u10"}}},
		{in: "pkg:APK/alpine/musl@1.2.5-r10?ARCH=x86_64&distro=alpine-3.22",
			want: APK("musl", "1.2.5-r10", "x86_64", "alpine-3.22")},
		{in: "pkg:deb/debian/bash", want: PURL{Type: "deb", Namespace: "debian", Name: "bash"}},
		{in: "pkg:golang/github.com/a/b@v1.0.0#sub/./dir",
			want: PURL{Type: "golang", Namespace: "github.com/a", Name: "b", Version: "v1.0.0", Subpath: "sub/dir"}},
		{in: "pkg:deb/debian/a?arch=", want: PURL{Type: "deb", Namespace: "debian", Name: "a"}},
		{in: "deb/debian/a", err: "does not start with pkg:"},
		{in: "pkg:deb", err: "want pkg:TYPE/NAME"},
		{in: "pkg:1deb/a", err: "type"},
		{in: "pkg:deb//", err: "want pkg:TYPE/NAME"},
		{in: "pkg:deb/debian/%2e%2e#x", want: PURL{Type: "deb", Namespace: "debian", Name: "..", Subpath: "x"}},
		{in: "pkg:deb/debian/a%2", err: "percent-escape"},
		{in: "pkg:deb/debian/a?arch", err: "key=value"},
		{in: "pkg:deb/debian/a?arch=1&arch=2", err: "given twice"},
		{in: "pkg:deb/debian/a%2Fb", err: "encoded '/'"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Parse(%s) error %v, want one with %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%s): %v", tt.in, err)
			continue
		}
		if got.String() != tt.want.String() || !reflect.DeepEqual(got.Qualifiers, dropEmpty(tt.want.Qualifiers)) {
			t.Errorf("Parse(%s) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func dropEmpty(q map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range q {
		if v != "" {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// FuzzParse: no input panics, and whatever parses writes a purl that parses back to itself.
func FuzzParse(f *testing.F) {
	f.Add("pkg:deb/debian/libc6@2.36-9%2Bdeb12u10?arch=amd64&distro=debian-12")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		out := p.String()
		q, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) = %+v, whose String %q does not parse: %v", s, p, out, err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip of %q: %+v became %+v (via %q)", s, p, q, out)
		}
	})
}
