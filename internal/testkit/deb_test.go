package testkit

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

type arMemberT struct {
	name string
	data []byte
}

// readAr is a deliberately independent reader of the common ar format.
func readAr(t *testing.T, b []byte) []arMemberT {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("!<arch>\n")) {
		t.Fatalf("missing ar magic: %q", b[:min(8, len(b))])
	}
	var out []arMemberT
	for rest := b[8:]; len(rest) > 0; {
		if len(rest) < 60 || string(rest[58:60]) != "`\n" {
			t.Fatalf("bad ar header %q", rest[:min(60, len(rest))])
		}
		size, err := strconv.Atoi(strings.TrimSpace(string(rest[48:58])))
		if err != nil || 60+size > len(rest) {
			t.Fatalf("bad ar size %q", rest[48:58])
		}
		name := strings.TrimSuffix(strings.TrimSpace(string(rest[:16])), "/")
		out = append(out, arMemberT{name, rest[60 : 60+size]})
		rest = rest[60+size:]
		if size%2 == 1 {
			if len(rest) == 0 || rest[0] != '\n' {
				t.Fatalf("member %s: odd size without \\n padding", name)
			}
			rest = rest[1:]
		}
	}
	return out
}

type tarEntry struct {
	hdr  *tar.Header
	body string
}

func readTar(t *testing.T, name string, b []byte) []tarEntry {
	t.Helper()
	var r io.Reader = bytes.NewReader(b)
	var err error
	switch filepath.Ext(name) {
	case ".xz":
		r, err = xz.NewReader(r)
	case ".zst":
		var zr *zstd.Decoder
		zr, err = zstd.NewReader(r)
		r = zr
	case ".gz":
		r, err = gzip.NewReader(r)
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []tarEntry
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("%s %s: %v", name, hdr.Name, err)
		}
		out = append(out, tarEntry{hdr, string(body)})
	}
}

var sampleFiles = []File{
	{Path: "/usr/bin/hello", Mode: 04755, Body: "#!/bin/sh\necho hi\n"},
	{Path: "./usr/bin/hi", Type: tar.TypeSymlink, Link: "hello"},
	{Path: "usr/bin/hello2", Type: tar.TypeLink, Link: "/usr/bin/hello"},
	{Path: "/etc/hello.conf", Body: "greeting=hi\n", Uid: 7, Gid: 8},
	{Path: "/run/fifo", Type: tar.TypeFifo},
}

func TestBuildCompressions(t *testing.T) {
	for _, tc := range []struct{ compression, ext string }{
		{"", ".xz"}, {"xz", ".xz"}, {"zstd", ".zst"}, {"gzip", ".gz"}, {"none", ""},
	} {
		t.Run(tc.compression, func(t *testing.T) {
			d := Deb{Name: "hello", Version: "2.10-3", Compression: tc.compression, Files: sampleFiles}
			b, err := d.Build()
			if err != nil {
				t.Fatal(err)
			}
			m := readAr(t, b)
			if len(m) != 3 || m[0].name != "debian-binary" || string(m[0].data) != "2.0\n" ||
				m[1].name != "control.tar"+tc.ext || m[2].name != "data.tar"+tc.ext {
				t.Fatalf("members: %+v", m)
			}
			ctl := readTar(t, m[1].name, m[1].data)
			if len(ctl) != 3 || ctl[0].hdr.Name != "./" || ctl[1].hdr.Name != "./control" || ctl[2].hdr.Name != "./md5sums" {
				t.Fatalf("control.tar entries: %v", ctl)
			}
			if ctl[1].body != d.Control() {
				t.Errorf("control = %q, want %q", ctl[1].body, d.Control())
			}
			wantSums := fmt.Sprintf("%x  usr/bin/hello\n%x  etc/hello.conf\n",
				md5.Sum([]byte(sampleFiles[0].Body)), md5.Sum([]byte(sampleFiles[3].Body)))
			if ctl[2].body != wantSums {
				t.Errorf("md5sums = %q, want %q", ctl[2].body, wantSums)
			}
			data := readTar(t, m[2].name, m[2].data)
			want := []struct {
				name, link, body string
				typ              byte
				mode             int64
				uid              int
			}{
				{"./usr/bin/hello", "", sampleFiles[0].Body, tar.TypeReg, 04755, 0},
				{"./usr/bin/hi", "hello", "", tar.TypeSymlink, 0777, 0},
				{"./usr/bin/hello2", "./usr/bin/hello", "", tar.TypeLink, 0644, 0},
				{"./etc/hello.conf", "", sampleFiles[3].Body, tar.TypeReg, 0644, 7},
				{"./run/fifo", "", "", tar.TypeFifo, 0644, 0},
			}
			if len(data) != len(want) {
				t.Fatalf("data.tar has %d entries, want %d", len(data), len(want))
			}
			for i, w := range want {
				h := data[i].hdr
				if h.Name != w.name || h.Linkname != w.link || data[i].body != w.body || h.Typeflag != w.typ || h.Mode != w.mode || h.Uid != w.uid {
					t.Errorf("entry %d = %+v %q, want %+v", i, h, data[i].body, w)
				}
			}
		})
	}
}

func TestBuildIsReproducible(t *testing.T) {
	d := Deb{Name: "hello", Files: sampleFiles, Compression: "zstd"}
	a, err := d.Build()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := d.Build()
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the same Deb differ")
	}
}

func TestAutoDirs(t *testing.T) {
	d := Deb{Name: "x", AutoDirs: true, Compression: "none", Files: []File{
		{Path: "/usr/lib/x/a"},
		{Path: "/usr/lib", Type: tar.TypeDir, Mode: 0700}, // explicit, after its auto-added twin
		{Path: "/usr/lib/x/b"},
		{Path: "/etc/x/", Type: tar.TypeDir},
		{Path: "/etc/x/c"},
	}}
	b, err := d.Build()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range readTar(t, "data.tar", readAr(t, b)[2].data) {
		got = append(got, fmt.Sprintf("%s %o", e.hdr.Name, e.hdr.Mode))
	}
	want := "./ 755|./usr/ 755|./usr/lib/ 700|./usr/lib/x/ 755|./usr/lib/x/a 644|./usr/lib/x/b 644|./etc/ 755|./etc/x/ 755|./etc/x/c 644"
	if strings.Join(got, "|") != want {
		t.Errorf("entries\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
}

func TestRawEntriesKeptVerbatim(t *testing.T) {
	d := Deb{Name: "evil", AutoDirs: true, Compression: "none", Files: []File{
		{Path: "../etc/passwd", Body: "root::0:0::/:/bin/sh\n", Raw: true},
		{Path: "/usr//bin/../x", Type: tar.TypeLink, Link: "/etc/shadow", Raw: true},
	}}
	b, err := d.Build()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range readTar(t, "data.tar", readAr(t, b)[2].data) {
		got = append(got, e.hdr.Name+">"+e.hdr.Linkname)
	}
	if want := "../etc/passwd>|/usr//bin/../x>/etc/shadow"; strings.Join(got, "|") != want {
		t.Errorf("entries %s, want %s", strings.Join(got, "|"), want)
	}
}

func TestControl(t *testing.T) {
	for _, tc := range []struct {
		name string
		deb  Deb
		want string
	}{
		{"defaults", Deb{Name: "a"}, "Package: a\nVersion: 1.0\nArchitecture: amd64\nMaintainer: " + DefaultMaintainer +
			"\nInstalled-Size: 0\nDescription: a package built by the spartan test kit\n"},
		{"all fields", Deb{Name: "b", Version: "1:2-3", Arch: "all", Source: "bsrc (2-2)", Depends: "c | d", PreDepends: "e",
			Provides: "f", Recommends: "g", Essential: true, Priority: "required", Section: "libs", MultiArch: "foreign",
			Description: "short\nlong one\n\nlong two", Files: []File{{Path: "/x", Body: strings.Repeat("x", 1025)}, {Path: "/y", Type: tar.TypeDir}}},
			"Package: b\nSource: bsrc (2-2)\nVersion: 1:2-3\nArchitecture: all\nMaintainer: " + DefaultMaintainer +
				"\nInstalled-Size: 3\nPre-Depends: e\nDepends: c | d\nRecommends: g\nProvides: f\nEssential: yes\nMulti-Arch: foreign\n" +
				"Section: libs\nPriority: required\nDescription: short\n long one\n .\n long two\n"},
		{"extra overrides and removes", Deb{Name: "c", Description: "d", Extra: map[string]string{"maintainer": "Me <me@example.invalid>", "Homepage": "h", "Installed-Size": ""}},
			"Package: c\nVersion: 1.0\nArchitecture: amd64\nMaintainer: Me <me@example.invalid>\nHomepage: h\nDescription: d\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.deb.Control(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		deb        Deb
		comp, pool string
	}{
		{Deb{Name: "hello", Version: "1:2.10-3"}, "main", "pool/main/h/hello/hello_2.10-3_amd64.deb"},
		{Deb{Name: "libc6", Version: "2.41-12", Arch: "arm64"}, "main", "pool/main/libc/libc6/libc6_2.41-12_arm64.deb"},
		{Deb{Name: "lib", Arch: "all"}, "contrib", "pool/contrib/l/lib/lib_1.0_all.deb"},
	} {
		if got := PoolPath(tc.comp, tc.deb); got != tc.pool {
			t.Errorf("PoolPath(%s) = %s, want %s", tc.deb.Name, got, tc.pool)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	for _, d := range []Deb{{}, {Name: "x", Compression: "bzip2"}} {
		if _, err := d.Build(); err == nil {
			t.Errorf("Build(%+v) succeeded, want error", d)
		}
	}
}

// TestDpkgDebAccepts checks the archives against the real dpkg-deb when the host has it.
func TestDpkgDebAccepts(t *testing.T) {
	dpkgDeb, err := exec.LookPath("dpkg-deb")
	if err != nil {
		t.Skip("dpkg-deb not installed")
	}
	for _, c := range []string{"xz", "zstd", "gzip", "none"} {
		d := Deb{Name: "hello", Version: "1:2.10-3", Compression: c, AutoDirs: true, Files: sampleFiles,
			ControlFiles: map[string]string{"conffiles": "/etc/hello.conf\n"}}
		b, err := d.Build()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), d.Filename())
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(dpkgDeb, "--field", p, "Package", "Version").CombinedOutput()
		if err != nil || string(out) != "Package: hello\nVersion: 1:2.10-3\n" {
			t.Errorf("%s: dpkg-deb --field: %v\n%s", c, err, out)
		}
		out, err = exec.Command(dpkgDeb, "-c", p).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "./usr/bin/hello2 link to ./usr/bin/hello") {
			t.Errorf("%s: dpkg-deb -c: %v\n%s", c, err, out)
		}
	}
}
