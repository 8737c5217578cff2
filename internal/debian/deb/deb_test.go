package deb

import (
	"archive/tar"
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/testkit"
)

type entry struct {
	name, link string
	typ        byte
	mode       int64
	body       string
}

func collect(t *testing.T, deb []byte) (*Info, []entry, error) {
	t.Helper()
	var got []entry
	info, err := Read(bytes.NewReader(deb), func(hdr *tar.Header, body io.Reader) error {
		b, err := io.ReadAll(body)
		if err != nil {
			return err
		}
		got = append(got, entry{name: hdr.Name, link: hdr.Linkname, typ: hdr.Typeflag, mode: hdr.Mode, body: string(b)})
		return nil
	})
	return info, got, err
}

func sample(compression string) testkit.Deb {
	return testkit.Deb{
		Name: "hello", Version: "2.10-3", Arch: "arm64", Depends: "libc6 (>= 2.34)",
		Compression: compression, AutoDirs: true,
		ControlFiles: map[string]string{
			"conffiles": "/etc/hello.conf\nremove-on-upgrade /etc/old.conf\n",
			"postinst":  "#!/bin/sh\necho never run\n",
		},
		Files: []testkit.File{
			{Path: "/etc/hello.conf", Body: "greeting=hi\n"},
			{Path: "/usr/bin/hello", Mode: 0o755, Body: "\x7fELF fake"},
			{Path: "/usr/bin/hi", Type: tar.TypeSymlink, Link: "hello"},
			{Path: "/usr/share/doc/hello/copyright", Body: "GPL\n"},
		},
	}
}

func TestReadCompressions(t *testing.T) {
	for _, c := range []string{"xz", "zstd", "gzip", "none"} {
		t.Run(c, func(t *testing.T) {
			d := sample(c)
			raw, err := d.Build()
			if err != nil {
				t.Fatal(err)
			}
			info, got, err := collect(t, raw)
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range map[string]string{"Package": "hello", "Version": "2.10-3", "Architecture": "arm64", "Depends": "libc6 (>= 2.34)"} {
				if v := info.Control.Get(k); v != want {
					t.Errorf("%s = %q, want %q", k, v, want)
				}
			}
			wantSums := fmt.Sprintf("%x  usr/bin/hello\n", md5.Sum([]byte("\x7fELF fake")))
			if !strings.Contains(string(info.MD5Sums), wantSums) {
				t.Errorf("md5sums %q lacks %q", info.MD5Sums, wantSums)
			}
			if want := []string{"/etc/hello.conf", "/etc/old.conf"}; fmt.Sprint(info.Conffiles) != fmt.Sprint(want) {
				t.Errorf("conffiles = %q, want %q", info.Conffiles, want)
			}
			var names []string
			for _, e := range got {
				names = append(names, e.name)
			}
			want := "./ ./etc/ ./etc/hello.conf ./usr/ ./usr/bin/ ./usr/bin/hello ./usr/bin/hi ./usr/share/ ./usr/share/doc/ ./usr/share/doc/hello/ ./usr/share/doc/hello/copyright"
			if strings.Join(names, " ") != want {
				t.Errorf("entries\n got %s\nwant %s", strings.Join(names, " "), want)
			}
			for _, e := range got {
				switch e.name {
				case "./usr/bin/hello":
					if e.body != "\x7fELF fake" || e.mode != 0o755 {
						t.Errorf("hello: body %q mode %o", e.body, e.mode)
					}
				case "./usr/bin/hi":
					if e.typ != tar.TypeSymlink || e.link != "hello" {
						t.Errorf("hi: type %c link %q", e.typ, e.link)
					}
				}
			}
		})
	}
}

// TestReadRealDeb reads netbase 6.4 as published by Debian (testdata/netbase_6.4_all.deb).
func TestReadRealDeb(t *testing.T) {
	raw, err := os.ReadFile("testdata/netbase_6.4_all.deb")
	if err != nil {
		t.Fatal(err)
	}
	info, got, err := collect(t, raw)
	if err != nil {
		t.Fatal(err)
	}
	if info.Control.Get("Package") != "netbase" || info.Control.Get("Version") != "6.4" || info.Control.Get("Multi-Arch") != "foreign" {
		t.Errorf("control = %q", info.Control.String())
	}
	if want := "[/etc/ethertypes /etc/protocols /etc/rpc /etc/services]"; fmt.Sprint(info.Conffiles) != want {
		t.Errorf("conffiles = %v", info.Conffiles)
	}
	bodies := map[string]string{}
	for _, e := range got {
		bodies[e.name] = e.body
	}
	if len(bodies["./etc/services"]) != 12813 {
		t.Errorf("./etc/services: %d bytes, want 12813", len(bodies["./etc/services"]))
	}
	// Every md5sums line must match the data we streamed: proves bodies are intact.
	lines := strings.Split(strings.TrimSpace(string(info.MD5Sums)), "\n")
	if len(lines) != 2 {
		t.Fatalf("md5sums has %d lines, want 2", len(lines))
	}
	for _, l := range lines {
		sum, p, _ := strings.Cut(l, "  ")
		if got := fmt.Sprintf("%x", md5.Sum([]byte(bodies["./"+p]))); got != sum {
			t.Errorf("%s: md5 %s, md5sums says %s", p, got, sum)
		}
	}
}

type arPart struct {
	name string
	data []byte
}

// splitAr is the test's independent view of the ar layout, used to build odd archives.
func splitAr(t *testing.T, raw []byte) []arPart {
	t.Helper()
	raw = raw[8:]
	var out []arPart
	for len(raw) >= 60 {
		var size int
		fmt.Sscan(string(raw[48:58]), &size)
		out = append(out, arPart{strings.TrimSpace(string(raw[:16])), raw[60 : 60+size]})
		raw = raw[60+size+size%2:]
	}
	return out
}

func joinAr(parts ...arPart) []byte {
	var b bytes.Buffer
	b.WriteString("!<arch>\n")
	for _, p := range parts {
		fmt.Fprintf(&b, "%-16s%-12d%-6d%-6d%-8o%-10d`\n", p.name, 0, 0, 0, 0o100644, len(p.data))
		b.Write(p.data)
		if len(p.data)%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func TestReadVariants(t *testing.T) {
	raw, err := sample("xz").Build()
	if err != nil {
		t.Fatal(err)
	}
	p := splitAr(t, raw)
	bin, ctl, data := p[0], p[1], p[2]
	rename := func(a arPart, name string) arPart { a.name = name; return a }
	flip := func(a arPart, at int) arPart {
		d := append([]byte(nil), a.data...)
		d[at] ^= 0xff
		a.data = d
		return a
	}
	tests := []struct {
		name    string
		deb     []byte
		wantErr string // "" = success
	}{
		{"underscore members skipped", joinAr(bin, arPart{"_gpgorigin", []byte("sig")}, ctl, arPart{"_extra", nil}, data), ""},
		{"GNU-style names", joinAr(rename(bin, "debian-binary/"), rename(ctl, "control.tar.xz/"), rename(data, "data.tar.xz/")), ""},
		{"not ar", []byte("PK\x03\x04 zip file"), "missing the \"!<arch>\""},
		{"empty input", nil, "ar header"},
		{"empty archive", []byte("!<arch>\n"), "no debian-binary"},
		{"wrong first member", joinAr(ctl, bin, data), "first member is \"control.tar.xz\""},
		{"format 3.0", joinAr(arPart{"debian-binary", []byte("3.0\n")}, ctl, data), "format version \"3.0\""},
		{"data before control", joinAr(bin, data, ctl), "unexpected member \"data.tar.xz\" where control.tar"},
		{"no data", joinAr(bin, ctl), "ends before its data.tar member"},
		{"bzip2 data", joinAr(bin, ctl, rename(data, "data.tar.bz2")), "data.tar.bz2: bz2 compression is not supported"},
		{"lzma data", joinAr(bin, ctl, rename(data, "data.tar.lzma")), "lzma compression is not supported"},
		{"unknown compression", joinAr(bin, rename(ctl, "control.tar.lz4")), "want control.tar, control.tar.gz"},
		{"corrupt data", joinAr(bin, ctl, flip(data, len(data.data)/2)), "data.tar.xz: "},
		{"corrupt control", joinAr(bin, flip(ctl, len(ctl.data)/2), data), "control.tar.xz: "},
		{"control without control file", joinAr(bin, tarMember(t, "control.tar", map[string]string{"./md5sums": ""}), data), "no ./control file"},
		{"control without Package", joinAr(bin, tarMember(t, "control.tar", map[string]string{"./control": "Version: 1\n"}), data), "no Package field"},
		{"bad control syntax", joinAr(bin, tarMember(t, "control.tar", map[string]string{"./control": "Package: a\nbroken line\n"}), data), "./control: line 2"},
		{"bad header magic", append(append([]byte(nil), raw[:66]...), 'X'), "truncated"},
		{"absurd control size", []byte("!<arch>\n" + string(raw[8:68]) + "2.0\n" + fmt.Sprintf("%-16s%-12d%-6d%-6d%-8o%-10d`\n", "control.tar.xz", 0, 0, 0, 0o100644, int64(100)<<20)), "more than the 64 MiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, _, err := collect(t, tc.deb)
			if tc.wantErr == "" {
				if err != nil || info.Control.Get("Package") != "hello" {
					t.Fatalf("err = %v, info = %+v", err, info)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tc.wantErr)
			}
		})
	}
}

func tarMember(t *testing.T, name string, files map[string]string) arPart {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for n, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, body)
	}
	tw.Close()
	return arPart{name, b.Bytes()}
}

// TestReadTruncated cuts a valid package at every few bytes: each prefix must fail with a
// message naming what was being read, never succeed or panic.
func TestReadTruncated(t *testing.T) {
	for _, c := range []string{"xz", "zstd", "gzip", "none"} {
		raw, err := sample(c).Build()
		if err != nil {
			t.Fatal(err)
		}
		for cut := 0; cut < len(raw)-1; cut += 7 {
			_, _, err := collect(t, raw[:cut])
			if err == nil {
				t.Fatalf("%s: cut at %d of %d: no error", c, cut, len(raw))
			}
			if cut > 68 && !strings.Contains(err.Error(), "tar") && !strings.Contains(err.Error(), "debian-binary") {
				t.Errorf("%s: cut at %d: error %q does not name the member", c, cut, err)
			}
		}
	}
}

func TestReadCallbackError(t *testing.T) {
	raw, err := sample("zstd").Build()
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop here")
	n := 0
	_, err = Read(bytes.NewReader(raw), func(hdr *tar.Header, _ io.Reader) error {
		n++
		if strings.HasSuffix(hdr.Name, "hello") {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Fatalf("err = %v, want the callback's error unchanged", err)
	}
	if n != 6 {
		t.Errorf("callback ran %d times, want 6 (stopped at ./usr/bin/hello)", n)
	}
	// A nil callback still walks (and so verifies) the data archive.
	if _, err := Read(bytes.NewReader(raw), nil); err != nil {
		t.Fatal(err)
	}
}
