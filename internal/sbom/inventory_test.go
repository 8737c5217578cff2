package sbom

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/oci"
)

type tarEntry struct {
	name, body, link string
}

func layer(t *testing.T, entries ...tarEntry) oci.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}
		if e.link != "" {
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return oci.Layer{Name: "l", Tar: buf.Bytes()}
}

// An image built by dpkg (a classic status file, symlinked doc directories and os-release, a
// package removed by a later layer's whiteout) is read the way a container would see it.
func TestReadClassicImage(t *testing.T) {
	zlib, err := os.ReadFile(filepath.Join("testdata", "copyright", "zlib1g"))
	if err != nil {
		t.Fatal(err)
	}
	status := `Package: zlib1g
Status: install ok installed
Version: 1:1.2.13.dfsg-1
Architecture: amd64
Source: zlib
Maintainer: Mark Brown <broonie@debian.org>
Pre-Depends: libc6 (>= 2.14)

Package: libc6
Status: install ok installed
Version: 2.36-9
Architecture: amd64
Source: glibc
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Depends: libgcc-s1

Package: oldpkg
Status: deinstall ok config-files
Version: 1
Architecture: amd64

Package: app
Status: install ok installed
Version: 2
Architecture: amd64
Depends: zlib1g | libz-dev, default-mta | mail-transport-agent, broken (>>
`
	img, err := oci.Image([]oci.Layer{
		layer(t,
			tarEntry{name: "var/lib/dpkg/status", body: status},
			tarEntry{name: "usr/lib/os-release", body: "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"},
			tarEntry{name: "etc/os-release", link: "../usr/lib/os-release"},
			tarEntry{name: "usr/share/doc/zlib1g/copyright", body: string(zlib)},
			tarEntry{name: "usr/share/doc/libc6", link: "zlib1g"},
		),
		layer(t, tarEntry{name: "usr/share/doc/.wh.zlib1g"}),
	}, oci.Config{Arch: "amd64", Created: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := Read(img)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range inv.Packages {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"app", "libc6", "zlib1g"}) {
		t.Fatalf("packages %v (config-files only is not installed)", names)
	}
	if inv.OS.VersionID != "12" || inv.Created.Year() != 2025 {
		t.Errorf("os %+v created %s", inv.OS, inv.Created)
	}
	z := inv.Package("zlib1g")
	if z.Source != "zlib" || z.SourceVersion != "1:1.2.13.dfsg-1" || !slices.Equal(z.Depends, []string{"libc6"}) {
		t.Errorf("zlib1g %+v", z)
	}
	// The later layer deleted the copyright file, and the libc6 link points at it.
	if z.SPDX.Expression != NoAssertion || inv.Package("libc6").SPDX.Expression != NoAssertion {
		t.Errorf("licenses after whiteout: %s %s", z.SPDX.Expression, inv.Package("libc6").SPDX.Expression)
	}
	if a := inv.Package("app"); !slices.Equal(a.Depends, []string{"zlib1g"}) {
		t.Errorf("app depends %v", a.Depends)
	}
	if len(inv.Warnings) != 1 || !strings.Contains(inv.Warnings[0], "app: Depends") {
		t.Errorf("warnings %v", inv.Warnings)
	}
	if len(inv.Files) != 0 {
		t.Errorf("files %v in an image without spartan-rootfs", inv.Files)
	}
}

func TestReadFollowsDocLinks(t *testing.T) {
	zlib, err := os.ReadFile(filepath.Join("testdata", "copyright", "zlib1g"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := oci.Image([]oci.Layer{layer(t,
		tarEntry{name: "var/lib/dpkg/status.d/a", body: "Package: a\nVersion: 1\nArchitecture: all\n"},
		tarEntry{name: "usr/share/doc/zlib1g/copyright", body: string(zlib)},
		tarEntry{name: "usr/share/doc/a", link: "/usr/share/doc/zlib1g"},
	)}, oci.Config{Arch: "arm64"})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := Read(img)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Packages) != 1 || inv.Packages[0].SPDX.Expression != "Zlib" {
		t.Fatalf("packages %+v", inv.Packages)
	}
	if p := inv.Packages[0].PURL(inv.OS).String(); p != "pkg:deb/debian/a@1?arch=all" {
		t.Errorf("purl without os-release: %s", p)
	}
}

func FuzzParseCopyright(f *testing.F) {
	entries, _ := os.ReadDir(filepath.Join("testdata", "copyright"))
	for _, e := range entries {
		if b, err := os.ReadFile(filepath.Join("testdata", "copyright", e.Name())); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("Format: copyright-format\n\nFiles: *\nLicense: a, or b and (c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l := ParseCopyright(data)
		if l.Expression == "" {
			t.Fatal("empty expression")
		}
		depth := 0
		for _, r := range l.Expression {
			switch r {
			case '(':
				depth++
			case ')':
				depth--
			}
			if depth < 0 {
				t.Fatalf("unbalanced %q", l.Expression)
			}
		}
		if depth != 0 {
			t.Fatalf("unbalanced %q", l.Expression)
		}
		for ref := range l.Refs {
			if !strings.HasPrefix(ref, "LicenseRef-") || strings.ContainsFunc(ref, func(r rune) bool {
				return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-')
			}) {
				t.Fatalf("invalid ref %q", ref)
			}
		}
	})
}
