package inventory

import (
	"archive/tar"
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/rootfs"
)

// ent is a file (body) or a symlink (link) of a layer.
type ent struct{ name, body, link string }

// fsOf flattens layers the way FromImage does: only what the inventory reads.
func fsOf(t *testing.T, layers ...[]ent) *rootfs.FS {
	t.Helper()
	var ls []*rootfs.Layer
	for _, es := range layers {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, e := range es {
			h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
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
		l, err := rootfs.ReadLayer(&buf, Full.Files(nil))
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	return rootfs.New(ls)
}

const debian13 = "ID=debian\nVERSION_ID=\"13\"\nVERSION_CODENAME=trixie\n"

func summary(inv *Inventory) string {
	var out []string
	for _, p := range inv.Packages {
		out = append(out, fmt.Sprintf("%s:%s=%s(%s@%s)", p.Name, p.Arch, p.Version, p.Source, p.SourceVersion))
	}
	return strings.Join(out, " ")
}

func TestDpkg(t *testing.T) {
	status := `Package: libssl3t64
Status: install ok installed
Architecture: amd64
Source: openssl (3.5.1-1)
Version: 3.5.1-1+b1

Package: oldpkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: libc6
Status: install ok installed
Architecture: i386
Source: glibc
Version: 2.41-12

Package: bash
Status: hold ok installed
Architecture: amd64
Version: 5.2.37-2
`
	tests := []struct {
		name   string
		layers [][]ent
		want   string
		files  string // where the first package's record and files came from
	}{
		{"status.d, distroless style", [][]ent{{
			{name: "var/lib/dpkg/status.d/libc6", body: "Package: libc6\nVersion: 2.41-12\nArchitecture: amd64\nSource: glibc\n"},
			{name: "var/lib/dpkg/status.d/libc6.md5sums", body: "0123456789abcdef0123456789abcdef  usr/lib/x86_64-linux-gnu/libc.so.6\n"},
			{name: "var/lib/dpkg/status.d/libpython3.13-minimal", body: "Package: libpython3.13-minimal\nVersion: 3.13.5-2\nArchitecture: amd64\nSource: python3.13\n"},
		}}, "libc6:amd64=2.41-12(glibc@2.41-12) libpython3.13-minimal:amd64=3.13.5-2(python3.13@3.13.5-2)",
			"/var/lib/dpkg/status.d/libc6 /usr/lib/x86_64-linux-gnu/libc.so.6=md5:0123456789abcdef0123456789abcdef"},
		{"classic status: removed packages do not count", [][]ent{{
			{name: "var/lib/dpkg/status", body: status},
			{name: "var/lib/dpkg/info/bash.md5sums", body: "00000000000000000000000000000001  usr/bin/bash\n"},
		}}, "bash:amd64=5.2.37-2(bash@5.2.37-2) libc6:i386=2.41-12(glibc@2.41-12) libssl3t64:amd64=3.5.1-1+b1(openssl@3.5.1-1)",
			"/var/lib/dpkg/status /usr/bin/bash=md5:00000000000000000000000000000001"},
		{"both: status.d first, then status", [][]ent{{
			{name: "var/lib/dpkg/status", body: status},
			{name: "var/lib/dpkg/status.d/bash", body: "Package: bash\nVersion: 5.3-1\nArchitecture: amd64\n"},
		}}, "bash:amd64=5.3-1(bash@5.3-1) libc6:i386=2.41-12(glibc@2.41-12) libssl3t64:amd64=3.5.1-1+b1(openssl@3.5.1-1)",
			"/var/lib/dpkg/status.d/bash "},
		{"a whiteout removes a record", [][]ent{
			{{name: "var/lib/dpkg/status.d/a", body: "Package: a\nVersion: 1\n"}, {name: "var/lib/dpkg/status.d/b", body: "Package: b\nVersion: 1\n"}},
			{{name: "var/lib/dpkg/status.d/.wh.a"}},
		}, "b:=1(b@1)", "/var/lib/dpkg/status.d/b "},
		{"an opaque directory hides the records below", [][]ent{
			{{name: "var/lib/dpkg/status.d/a", body: "Package: a\nVersion: 1\n"}},
			{{name: "var/lib/dpkg/status.d/.wh..wh..opq"}, {name: "var/lib/dpkg/status.d/c", body: "Package: c\nVersion: 2\n"}},
		}, "c:=2(c@2)", "/var/lib/dpkg/status.d/c "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.layers[0] = append(tt.layers[0], ent{name: "etc/os-release", body: debian13})
			inv, err := Read(fsOf(t, tt.layers...))
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(inv); got != tt.want {
				t.Errorf("packages\n got %s\nwant %s", got, tt.want)
			}
			p := inv.Packages[0]
			files := p.Record + " "
			for _, f := range p.Files {
				files += f.Path + "=" + f.Digest
			}
			if files != tt.files {
				t.Errorf("record and files %q, want %q", files, tt.files)
			}
			if !slices.Equal(inv.Databases, []string{"dpkg"}) || p.Type != "deb" || p.Namespace != "debian" {
				t.Errorf("databases %v, package type %s/%s", inv.Databases, p.Type, p.Namespace)
			}
		})
	}
}

// A record that cannot be parsed stops the inventory with an error naming its file.
func TestCorruptRecords(t *testing.T) {
	tests := []struct {
		name, file, body string
	}{
		{"continuation before a field", "var/lib/dpkg/status.d/a", " orphan continuation\nPackage: a\n"},
		{"no colon", "var/lib/dpkg/status", "Package: a\nVersion: 1\nnonsense\n"},
		{"no Package field", "var/lib/dpkg/status.d/b", "Version: 1\n"},
		{"no Version field", "var/lib/dpkg/status", "Package: a\nStatus: install ok installed\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(fsOf(t, []ent{{name: tt.file, body: tt.body}}))
			if err == nil || !strings.Contains(err.Error(), "/"+tt.file) || !strings.Contains(err.Error(), "dpkg") {
				t.Errorf("got %v, want an error naming /%s", err, tt.file)
			}
		})
	}
}

func TestSourceOf(t *testing.T) {
	tests := []struct{ field, name, ver, src, srcVer string }{
		{"", "bash", "5.2.37-2", "bash", "5.2.37-2"},
		{"openssl", "libssl3t64", "3.5.1-1", "openssl", "3.5.1-1"},
		{"gcc-14", "gcc-14-base", "14.2.0-19", "gcc-14", "14.2.0-19"},
		{"util-linux (2.41-5)", "libblkid1", "2.41-5", "util-linux", "2.41-5"},
		// binNMUs: built from the unchanged source, whose version the field may give.
		{"openssl (3.5.1-1)", "libssl3t64", "3.5.1-1+b1", "openssl", "3.5.1-1"},
		{"krb5", "libk5crypto3", "1.21.3-5+b2", "krb5", "1.21.3-5"},
		{"", "zlib1g", "1:1.3.dfsg+really1.3.1-1+b1", "zlib1g", "1:1.3.dfsg+really1.3.1-1"}, // epoch kept
		{"sope", "libsope1", "5.12.1-1+b12", "sope", "5.12.1-1"},
		// An explicit version wins, even one that looks like a binNMU.
		{"weird (1.0+b1)", "w", "1.0+b1", "weird", "1.0+b1"},
		// Not binNMUs: "+b" must end the version and be followed by digits.
		{"", "x", "1.0+bpo1", "x", "1.0+bpo1"},
		{"", "y", "2.0+b1.1", "y", "2.0+b1.1"},
	}
	for _, tt := range tests {
		src, sv := SourceOf(tt.field, tt.name, tt.ver)
		if src != tt.src || sv != tt.srcVer {
			t.Errorf("SourceOf(%q, %q, %q) = %q %q; want %q %q", tt.field, tt.name, tt.ver, src, sv, tt.src, tt.srcVer)
		}
	}
}

func TestDependsAndLicenses(t *testing.T) {
	fs := fsOf(t, []ent{
		{name: "etc/os-release", body: debian13},
		{name: "var/lib/dpkg/status.d/app", body: "Package: app\nVersion: 2\nDepends: zlib1g | libz-dev, default-mta | mail-transport-agent, broken (>>\n"},
		{name: "var/lib/dpkg/status.d/zlib1g", body: "Package: zlib1g\nVersion: 1\nPre-Depends: libc6 (>= 2.14)\n"},
		{name: "var/lib/dpkg/status.d/libc6", body: "Package: libc6\nVersion: 2\n"},
		{name: "var/lib/dpkg/status.d/exim", body: "Package: exim\nVersion: 4\nProvides: mail-transport-agent\n"},
		{name: "usr/share/doc/zlib1g/copyright", body: "License: Zlib\n"},
		{name: "usr/share/doc/libc6", link: "zlib1g"},
	})
	inv, err := Read(fs)
	if err != nil {
		t.Fatal(err)
	}
	if d := inv.Package("app").Depends; !slices.Equal(d, []string{"exim", "zlib1g"}) {
		t.Errorf("app depends %v", d)
	}
	if d := inv.Package("zlib1g").Depends; !slices.Equal(d, []string{"libc6"}) {
		t.Errorf("zlib1g depends %v", d)
	}
	if len(inv.Warnings) != 1 || !strings.Contains(inv.Warnings[0], "app: Depends") {
		t.Errorf("warnings %v", inv.Warnings)
	}
	for _, name := range []string{"zlib1g", "libc6"} { // libc6's doc directory is a link
		if l := inv.Package(name).License; l.Format != DebianCopyright || string(l.Text) != "License: Zlib\n" {
			t.Errorf("%s license %+v", name, l)
		}
	}
	if l := inv.Package("app").License; l.Format != "" || l.Text != nil {
		t.Errorf("app license %+v", l)
	}
}

// An image without a package database is an empty inventory, not an error: what to make of
// it is the caller's business.
func TestNoDatabase(t *testing.T) {
	inv, err := Read(fsOf(t, []ent{{name: "etc/os-release", body: debian13}, {name: "usr/bin/app", body: "x"}}))
	if err != nil || len(inv.Packages) != 0 || len(inv.Databases) != 0 || inv.OS.Codename != "trixie" {
		t.Errorf("%+v %v", inv, err)
	}
}

func TestOSRelease(t *testing.T) {
	tests := []struct {
		name   string
		files  []ent
		want   OSRelease
		distro string
	}{
		{"symlink into /usr/lib", []ent{{name: "usr/lib/os-release", body: debian13}, {name: "etc/os-release", link: "../usr/lib/os-release"}},
			OSRelease{ID: "debian", VersionID: "13", Codename: "trixie"}, "debian-13"},
		{"only /usr/lib/os-release", []ent{{name: "usr/lib/os-release", body: "ID=debian\nVERSION_ID=12\n"}},
			OSRelease{ID: "debian", VersionID: "12"}, "debian-12"},
		{"/etc/os-release without ID falls back", []ent{{name: "etc/os-release", body: "# empty\n"}, {name: "usr/lib/os-release", body: "ID=debian\nVERSION_ID=12\n"}},
			OSRelease{ID: "debian", VersionID: "12"}, "debian-12"},
		{"testing: codename, no VERSION_ID", []ent{{name: "etc/os-release", body: "PRETTY_NAME=\"Debian GNU/Linux forky/sid\"\nNAME=\"Debian GNU/Linux\"\nVERSION_CODENAME=forky\nID=debian\n"}},
			OSRelease{ID: "debian", Name: "Debian GNU/Linux", Codename: "forky", PrettyName: "Debian GNU/Linux forky/sid"}, "debian-forky"},
		{"derivative with ID_LIKE, no VERSION_CODENAME", []ent{{name: "etc/os-release", body: "ID=raspbian\nID_LIKE='debian ubuntu'\nVERSION_ID=\"12\"\n"}},
			OSRelease{ID: "raspbian", IDLike: []string{"debian", "ubuntu"}, VersionID: "12"}, "raspbian-12"},
		{"alpine", []ent{{name: "etc/os-release", body: "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.22.1\n"}},
			OSRelease{ID: "alpine", Name: "Alpine Linux", VersionID: "3.22.1"}, "alpine-3.22.1"},
		{"none", nil, OSRelease{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ReadOSRelease(fsOf(t, tt.files))
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if d := got.Distro(""); d != tt.distro {
				t.Errorf("distro %q, want %q", d, tt.distro)
			}
		})
	}
	if d := (OSRelease{}).Distro("debian"); d != "" {
		t.Errorf("distro without versions %q", d)
	}
}

func TestPURL(t *testing.T) {
	bookworm := OSRelease{ID: "debian", VersionID: "12", Codename: "bookworm"}
	deb := func(name, version, arch string) *Package {
		return &Package{Type: "deb", Namespace: "debian", Name: name, Version: version, Arch: arch}
	}
	tests := []struct {
		pkg  *Package
		os   OSRelease
		want string
	}{
		{deb("libc6", "2.36-9+deb12u10", "amd64"), bookworm, "pkg:deb/debian/libc6@2.36-9%2Bdeb12u10?arch=amd64&distro=debian-12"},
		{deb("libstdc++6", "1:12.2.0-14", "arm64"), bookworm, "pkg:deb/debian/libstdc%2B%2B6@1%3A12.2.0-14?arch=arm64&distro=debian-12"},
		{deb("tzdata", "2025b-0+deb12u1", "all"), OSRelease{ID: "debian", Codename: "forky"}, "pkg:deb/debian/tzdata@2025b-0%2Bdeb12u1?arch=all&distro=debian-forky"},
		{deb("a", "1", "all"), OSRelease{}, "pkg:deb/debian/a@1?arch=all"},
		{&Package{Type: "apk", Namespace: "alpine", Name: "musl", Version: "1.2.5-r10", Arch: "x86_64"}, OSRelease{ID: "alpine", VersionID: "3.22"},
			"pkg:apk/alpine/musl@1.2.5-r10?arch=x86_64&distro=alpine-3.22"},
	}
	for _, tt := range tests {
		if got := tt.pkg.PURL(tt.os).String(); got != tt.want {
			t.Errorf("PURL(%s) = %s, want %s", tt.pkg.Name, got, tt.want)
		}
	}
}

// Wants is what a flattening for the inventory keeps; the layer cache holds only these.
func TestWants(t *testing.T) {
	tests := []struct {
		path          string
		records, full bool
	}{
		{"/etc/os-release", true, true},
		{"/usr/lib/os-release", true, true},
		{"/var/lib/dpkg/status", true, true},
		{"/var/lib/dpkg/status.d/libc6", true, true},
		{"/var/lib/dpkg/status.d/libc6.md5sums", false, true},
		{"/var/lib/dpkg/info/libc6:amd64.md5sums", false, true},
		{"/usr/share/doc/libc6/copyright", false, true},
		{"/usr/share/doc/libc6", false, true},
		{"/var/lib/dpkg/info/libc6.list", false, false},
		{"/var/lib/dpkg/status-old", false, false},
		{"/usr/share/doc/libc6/changelog.gz", false, false},
		{"/usr/share/doc/libc6/examples/copyright", false, false},
		{"/etc/passwd", false, false},
	}
	for _, tt := range tests {
		if Records.Wants(tt.path) != tt.records || Full.Wants(tt.path) != tt.full {
			t.Errorf("Wants(%s): records %v full %v, want %v %v", tt.path, Records.Wants(tt.path), Full.Wants(tt.path), tt.records, tt.full)
		}
	}
	if Records.Files(nil).CacheKey == Full.Files(nil).CacheKey {
		t.Error("both details share a layer cache key")
	}
}

// At Records detail the same packages are read, without files and licenses.
func TestRecordsDetail(t *testing.T) {
	files := []ent{
		{name: "etc/os-release", body: debian13},
		{name: "var/lib/dpkg/status.d/zlib1g", body: "Package: zlib1g\nVersion: 1\nArchitecture: amd64\n"},
		{name: "var/lib/dpkg/status.d/zlib1g.md5sums", body: "0123456789abcdef0123456789abcdef  usr/lib/libz.so.1\n"},
		{name: "usr/share/doc/zlib1g/copyright", body: "License: Zlib\n"},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range files {
		must(t, tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}))
		_, err := tw.Write([]byte(e.body))
		must(t, err)
	}
	must(t, tw.Close())
	l, err := rootfs.ReadLayer(&buf, Records.Files(nil))
	must(t, err)
	inv, err := Read(rootfs.New([]*rootfs.Layer{l}))
	must(t, err)
	full, err := Read(fsOf(t, files))
	must(t, err)
	if summary(inv) != summary(full) || summary(inv) != "zlib1g:amd64=1(zlib1g@1)" {
		t.Errorf("records %s, full %s", summary(inv), summary(full))
	}
	if p := inv.Packages[0]; p.Files != nil || p.License.Text != nil {
		t.Errorf("records detail read files or license: %+v", p)
	}
	if p := full.Packages[0]; len(p.Files) != 1 || p.License.Text == nil {
		t.Errorf("full detail lacks files or license: %+v", p)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// lineDB is a package database of another format ("name version" lines in /test/installed),
// standing in for a second distribution's to show how Read picks and merges databases.
type lineDB struct{}

func (lineDB) Name() string                  { return "lines" }
func (lineDB) Wants(p string, _ Detail) bool { return p == "/test/installed" }
func (lineDB) Present(fs *rootfs.FS) bool    { return fs.Lookup("/test/installed") != nil }
func (lineDB) Read(fs *rootfs.FS) ([]Package, []string, error) {
	b, _ := fs.Content("/test/installed")
	var out []Package
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		name, version, ok := strings.Cut(l, " ")
		if !ok {
			return nil, nil, fmt.Errorf("/test/installed: %q is not \"name version\"", l)
		}
		out = append(out, Package{Type: "generic", Namespace: "test", Name: name, Version: version, Record: "/test/installed"})
	}
	return out, nil, nil
}

func TestDatabases(t *testing.T) {
	saved := databases
	databases = []Database{dpkg{}, lineDB{}}
	t.Cleanup(func() { databases = saved })
	tests := []struct {
		name      string
		files     []ent
		databases string
		packages  string
		err       string
	}{
		{"dpkg only", []ent{{name: "var/lib/dpkg/status.d/a", body: "Package: a\nVersion: 1\n"}}, "dpkg", "deb:a@1", ""},
		{"the other only", []ent{{name: "test/installed", body: "b 2\n"}}, "lines", "generic:b@2", ""},
		{"both, merged by name", []ent{{name: "test/installed", body: "b 2\n"}, {name: "var/lib/dpkg/status", body: "Package: c\nVersion: 3\n"}}, "dpkg lines", "generic:b@2 deb:c@3", ""},
		{"an error names the database", []ent{{name: "test/installed", body: "broken\n"}}, "", "", "lines database: /test/installed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !Full.Wants("/test/installed") {
				t.Fatal("Wants ignores the second database")
			}
			inv, err := Read(fsOf(t, tt.files))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			must(t, err)
			var pkgs []string
			for _, p := range inv.Packages {
				pkgs = append(pkgs, p.Type+":"+p.Name+"@"+p.Version)
			}
			if got := strings.Join(inv.Databases, " "); got != tt.databases {
				t.Errorf("databases %q, want %q", got, tt.databases)
			}
			if got := strings.Join(pkgs, " "); got != tt.packages {
				t.Errorf("packages %q, want %q", got, tt.packages)
			}
		})
	}
}
