package compare

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/spartan-images/spartan/internal/audit"
	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/spec"
)

type ent struct {
	name string
	typ  byte
	mode int64
	body string
	link string
}

func tarOf(t *testing.T, ents []ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link}
		if e.typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, e.body)
	}
	tw.Close()
	return buf.Bytes()
}

func imageOf(t *testing.T, user string, layers ...[]ent) v1.Image {
	t.Helper()
	img := empty.Image
	for _, l := range layers {
		b := tarOf(t, l)
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.Append(img, mutate.Addendum{Layer: layer}); err != nil {
			t.Fatal(err)
		}
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS, cf.Config.User = "amd64", "linux", user
	img, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

const status = `Package: bash
Status: install ok installed
Version: 5.2.37-2
Architecture: amd64

Package: removed-one
Status: deinstall ok config-files
Version: 1.0

Package: libc6
Status: install ok installed
Version: 2.41-12
Architecture: amd64
Multi-Arch: same

Package: dpkg
Status: install ok installed
Version: 1.22.21
`

func general(t *testing.T) v1.Image {
	return imageOf(t, "root", []ent{
		{name: "etc/passwd", typ: tar.TypeReg, mode: 0o644, body: "root:x:0:0::/root:/bin/bash\n"},
		{name: "var/lib/dpkg/status", typ: tar.TypeReg, mode: 0o644, body: status},
		{name: "usr/bin/bash", typ: tar.TypeReg, mode: 0o755, body: "ELF"},
		{name: "usr/bin/sh", typ: tar.TypeSymlink, mode: 0o777, link: "bash"},
		{name: "usr/bin/dpkg", typ: tar.TypeReg, mode: 0o755, body: "ELF"},
		{name: "usr/bin/su", typ: tar.TypeReg, mode: 0o4755, body: "ELF"},
		{name: "usr/share/doc/bash/README", typ: tar.TypeReg, mode: 0o644, body: "docs"},
	})
}

func spartan(t *testing.T) v1.Image {
	return imageOf(t, "65532:65532",
		[]ent{
			{name: "etc/passwd", typ: tar.TypeReg, mode: 0o644, body: "root:x:0:0::/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n"},
			{name: "var/lib/dpkg/status.d/libc6", typ: tar.TypeReg, mode: 0o644, body: "Package: libc6\nVersion: 2.41-12\nArchitecture: amd64\nMulti-Arch: same\n"},
			{name: "var/lib/dpkg/status.d/libc6.md5sums", typ: tar.TypeReg, mode: 0o644, body: "d41d8cd98f00b204e9800998ecf8427e  usr/lib/x.so\n"},
		},
		[]ent{
			{name: "var/lib/dpkg/status.d/python3.13", typ: tar.TypeReg, mode: 0o644, body: "Package: python3.13\nVersion: 3.13.5-2\n"},
			{name: "usr/bin/python3.13", typ: tar.TypeReg, mode: 0o755, body: "ELF"},
		})
}

func measured(t *testing.T, name string, img v1.Image) *Metrics {
	t.Helper()
	m, _, err := MeasureTarget(name, &audit.Target{Name: name, Kind: audit.KindMemory, Image: img}, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMeasureAndCompare(t *testing.T) {
	a, b := measured(t, "general", general(t)), measured(t, "spartan", spartan(t))
	if len(a.Packages) != 3 || a.Packages["bash"] != "5.2.37-2" || a.Packages["libc6"] != "2.41-12" {
		t.Errorf("general packages: %v (want bash, libc6, dpkg; not the deinstalled one)", a.Packages)
	}
	if len(b.Packages) != 2 || b.Packages["python3.13"] != "3.13.5-2" {
		t.Errorf("spartan packages: %v (want libc6, python3.13 from status.d, md5sums skipped)", b.Packages)
	}
	checks := []struct {
		what      string
		got, want int
	}{
		{"general files", a.Files, 6}, {"general executables", a.Executables, 3},
		{"general shells", len(a.Shells), 2}, {"general package managers", len(a.PackageManagers), 1},
		{"general setuid", len(a.Setuid), 1}, {"general layers", a.Layers, 1},
		{"spartan files", b.Files, 5}, {"spartan executables", b.Executables, 1},
		{"spartan shells", len(b.Shells), 0}, {"spartan layers", b.Layers, 2},
		{"general audit WARN", a.Audit[audit.Warn], 5}, // root user, su, sh, bash, dpkg
		{"spartan audit WARN", b.Audit[audit.Warn], 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.what, c.got, c.want)
		}
	}
	if a.CompressedSize <= 0 || a.UncompressedSize < 2048 || b.UncompressedSize < 4096 {
		t.Errorf("sizes: %d %d %d", a.CompressedSize, a.UncompressedSize, b.UncompressedSize)
	}
	d := Compare(a, b)
	if strings.Join(d.Added, ",") != "python3.13" || strings.Join(d.Removed, ",") != "bash,dpkg" {
		t.Errorf("added %v removed %v", d.Added, d.Removed)
	}

	var txt, md bytes.Buffer
	if err := d.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`packages\s+3\s+2\s+-33\.3%`).MatchString(txt.String()) || !regexp.MustCompile(`shells\s+2\s+0\s+-2`).MatchString(txt.String()) {
		t.Errorf("text table:\n%s", txt.String())
	}
	if err := d.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| measure | general | spartan | change |", "| packages | 3 | 2 | -33.3% |", "| setuid/setgid files | 1 | 0 | -1 |", "`python3.13`"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
}

func TestHTML(t *testing.T) {
	d := Compare(measured(t, "general", general(t)), measured(t, "spartan", spartan(t)))
	var buf bytes.Buffer
	if err := d.WriteHTML(&buf, "general vs spartan"); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if n := strings.Count(page, "<svg"); n != len(d.Rows()) {
		t.Errorf("%d charts, want one per measure (%d)", n, len(d.Rows()))
	}
	// Self-contained: no scripts, no external stylesheets, images or fonts.
	for _, bad := range []string{"<script", "<link", "src=", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	// The packages chart: general's bar is full width (3 of 3), spartan's two thirds.
	if !strings.Contains(page, `aria-label="packages: 3 vs 2"`) || !strings.Contains(page, `width="560"`) || !strings.Contains(page, `width="373"`) {
		t.Errorf("packages chart not scaled as expected:\n%s", page)
	}
	out := filepath.Join(t.TempDir(), "r.html")
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRootfsImage(t *testing.T) {
	dir := t.TempDir()
	tarPath := filepath.Join(dir, "rootfs.tar")
	os.WriteFile(tarPath, tarOf(t, []ent{
		{name: "./", typ: tar.TypeDir, mode: 0o755},
		{name: "./usr/bin/bash", typ: tar.TypeReg, mode: 0o755, body: "ELF"},
	}), 0o644)
	img, err := ImageFromRootfs(tarPath, "arm64", "mmdebstrap test")
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Architecture != "arm64" || cf.Config.User != "root" || strings.Join(cf.Config.Cmd, " ") != "bash" || len(cf.History) != 1 {
		t.Errorf("config: %+v", cf)
	}
	m := measured(t, "g", img)
	if len(m.Shells) != 1 || m.Files != 1 {
		t.Errorf("metrics: %+v", m)
	}
}

func TestGeneralArgs(t *testing.T) {
	g := General{Release: "trixie", Arch: "amd64", Packages: []string{"python3.13", "ca-certificates"},
		Sources: []string{"deb http://mirror.test/debian trixie main", "deb http://mirror.test/debian-security trixie-security main"}}
	got := strings.Join(g.Args("/out.tar"), " ")
	want := "--variant=minbase --architectures=amd64 --include=python3.13,ca-certificates trixie /out.tar deb http://mirror.test/debian trixie main deb http://mirror.test/debian-security trixie-security main"
	if got != want {
		t.Errorf("args:\n got %s\nwant %s", got, want)
	}
}

func TestGeneralFor(t *testing.T) {
	s := &spec.Spec{Release: "trixie", Packages: []string{"python3.13"}, Repositories: []spec.Repository{
		{Archive: spec.ArchiveMain, Suites: []string{"trixie", "trixie-updates"}, Components: []string{"main"}},
		{Archive: spec.ArchiveSecurity, Suites: []string{"trixie-security"}, Components: []string{"main"}},
		{URL: "http://extra.test/repo", Suites: []string{"stable"}, Components: []string{"main", "contrib"}},
	}}
	g := GeneralFor(s, build.Mirrors{Main: "http://m.test/debian", Security: "http://m.test/debian-security"}, "arm64")
	want := []string{
		"deb http://m.test/debian trixie main", "deb http://m.test/debian trixie-updates main",
		"deb http://m.test/debian-security trixie-security main", "deb http://extra.test/repo stable main contrib",
	}
	if strings.Join(g.Sources, "\n") != strings.Join(want, "\n") || g.Arch != "arm64" || g.Release != "trixie" {
		t.Errorf("sources:\n%s", strings.Join(g.Sources, "\n"))
	}
}
