package assemble

import (
	"archive/tar"
	"crypto/md5"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/debian/archive"
	"github.com/spartan-images/spartan/internal/testkit"
)

func TestTrim(t *testing.T) {
	d := testkit.Deb{Name: "tool", AutoDirs: true, Files: []testkit.File{
		{Path: "/usr/bin/tool", Mode: 0o755, Body: "bin"},
		{Path: "/usr/share/doc/tool/copyright", Body: "MIT"},
		{Path: "/usr/share/doc/tool/changelog.Debian.gz", Body: "log"},
		{Path: "/usr/share/doc/tool/examples/ex.sh", Body: "ex"},
		{Path: "/usr/share/doc/tool-data", Type: tar.TypeSymlink, Link: "tool"},
		{Path: "/usr/share/man/man1/tool.1.gz", Body: "man"},
		{Path: "/usr/share/info/tool.info.gz", Body: "info"},
		{Path: "/usr/share/lintian/overrides/tool", Body: "o"},
		{Path: "/usr/share/bug/tool/control", Body: "b"},
		{Path: "/usr/share/locale/de/LC_MESSAGES/tool.mo", Body: "de"},
		{Path: "/usr/share/locale/C.UTF-8/LC_MESSAGES/tool.mo", Body: "c"},
		{Path: "/usr/share/locale/locale.alias", Body: "alias"},
		{Path: "/usr/lib/locale/C.utf8/LC_CTYPE", Body: "ctype"},
	}}
	tests := []struct {
		name    string
		trim    Trim
		present []string
		absent  []string
		trimmed int
	}{
		{
			name: "defaults",
			trim: testOptions().Trim,
			present: []string{"usr/bin/tool", "usr/share/doc/tool/copyright", "usr/share/doc/tool-data",
				"usr/share/locale/C.UTF-8/LC_MESSAGES/tool.mo", "usr/share/locale/locale.alias", "usr/lib/locale/C.utf8/LC_CTYPE"},
			absent: []string{"usr/share/doc/tool/changelog.Debian.gz", "usr/share/doc/tool/examples", "usr/share/man",
				"usr/share/info", "usr/share/lintian", "usr/share/bug", "usr/share/locale/de"},
			trimmed: 7,
		},
		{
			name:    "nothing trimmed",
			present: []string{"usr/share/doc/tool/changelog.Debian.gz", "usr/share/man/man1/tool.1.gz", "usr/share/locale/de/LC_MESSAGES/tool.mo"},
		},
		{
			name:    "man only",
			trim:    Trim{Man: true},
			present: []string{"usr/share/doc/tool/changelog.Debian.gz", "usr/share/info/tool.info.gz"},
			absent:  []string{"usr/share/man"},
			trimmed: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions()
			opts.Trim = tc.trim
			res := mustAssemble(t, opts, d)
			fs := flatten(t, res)
			for _, p := range tc.present {
				if _, ok := fs[p]; !ok {
					t.Errorf("%s trimmed, want kept", p)
				}
			}
			for _, p := range tc.absent {
				if _, ok := fs[p]; ok {
					t.Errorf("%s kept, want trimmed", p)
				}
			}
			if res.Trimmed != tc.trimmed {
				t.Errorf("Trimmed = %d, want %d", res.Trimmed, tc.trimmed)
			}
			sums := fs["var/lib/dpkg/status.d/tool.md5sums"].body
			for _, p := range tc.absent {
				if strings.Contains(sums, "  "+p) {
					t.Errorf("md5sums lists trimmed %s:\n%s", p, sums)
				}
			}
		})
	}
}

func TestAccounts(t *testing.T) {
	opts := testOptions()
	opts.Users = []User{{Name: "app", UID: 1000, GID: 1000, Home: "/srv/app"}}
	opts.Groups = []Group{{Name: "app", GID: 1000, Members: []string{"nonroot"}}, {Name: "staff", GID: 50, Members: []string{"app"}}}
	fs := flatten(t, mustAssemble(t, opts))
	wantPasswd := `root:x:0:0:root:/root:/sbin/nologin
app:x:1000:1000:app:/srv/app:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
`
	wantGroup := `root:x:0:
tty:x:5:
staff:x:50:app
app:x:1000:nonroot
nonroot:x:65532:
nogroup:x:65534:
`
	if got := fs["etc/passwd"].body; got != wantPasswd {
		t.Errorf("/etc/passwd\n%s\nwant\n%s", got, wantPasswd)
	}
	if got := fs["etc/group"].body; got != wantGroup {
		t.Errorf("/etc/group\n%s\nwant\n%s", got, wantGroup)
	}
	for p, want := range map[string][3]int64{
		"root": {0o700, 0, 0}, "home/nonroot": {0o700, 65532, 65532}, "srv/app": {0o700, 1000, 1000},
		"tmp": {0o1777, 0, 0}, "home": {0o755, 0, 0},
	} {
		h := fs[p].hdr
		if h == nil || h.Typeflag != tar.TypeDir || h.Mode != want[0] || int64(h.Uid) != want[1] || int64(h.Gid) != want[2] {
			t.Errorf("/%s: %+v, want dir mode %o owner %d:%d", p, h, want[0], want[1], want[2])
		}
	}
	if _, ok := fs["etc/shadow"]; ok {
		t.Error("/etc/shadow present; distroless ships none")
	}
	if ns := fs["etc/nsswitch.conf"].body; !strings.Contains(ns, "hosts:          files dns\n") {
		t.Errorf("nsswitch.conf = %q", ns)
	}

	bad := []struct {
		users  []User
		groups []Group
		want   string
	}{
		{users: []User{{Name: "bad:name", UID: 5}}, want: "invalid name"},
		{users: []User{{Name: "a", UID: 5}, {Name: "b", UID: 5}}, want: "share uid 5"},
		{users: []User{{Name: "a", UID: -1}}, want: "out of range"},
		{users: []User{{Name: "a", UID: 7, Home: "relative"}}, want: "absolute path"},
		{groups: []Group{{Name: "g", GID: 9, Members: []string{"x:y"}}}, want: "invalid member"},
	}
	for _, b := range bad {
		o := testOptions()
		o.Users, o.Groups = b.users, b.groups
		if _, err := Assemble(nil, o); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("users %v groups %v: err = %v, want %q", b.users, b.groups, err, b.want)
		}
	}
}

func TestReplaceDefaultAccount(t *testing.T) {
	opts := testOptions()
	opts.Users = []User{{Name: "app", UID: 65532, GID: 65532, Home: "/app"}}
	fs := flatten(t, mustAssemble(t, opts))
	if pw := fs["etc/passwd"].body; strings.Contains(pw, "nonroot") || !strings.Contains(pw, "app:x:65532:65532:app:/app:/sbin/nologin\n") {
		t.Errorf("/etc/passwd = %q, want app replacing nonroot", pw)
	}
}

func TestOSRelease(t *testing.T) {
	base := testkit.Deb{Name: "base-files", Version: "13.8", AutoDirs: true, Files: []testkit.File{
		{Path: "/usr/lib/os-release", Body: "PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\n"},
		{Path: "/etc/os-release", Type: tar.TypeSymlink, Link: "../usr/lib/os-release"},
		{Path: "/etc/debian_version", Body: "13.1\n"},
	}}
	res := mustAssemble(t, testOptions(), base)
	fs := flatten(t, res)
	want := `PRETTY_NAME="Spartan (Debian GNU/Linux 13 (trixie))"
NAME="Debian GNU/Linux"
VERSION_ID="13"
VERSION="13 (trixie)"
VERSION_CODENAME=trixie
ID=debian
HOME_URL="https://github.com/spartan-images/spartan"
SUPPORT_URL="https://github.com/spartan-images/spartan"
BUG_REPORT_URL="https://github.com/spartan-images/spartan/issues"
`
	for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
		if e := fs[p]; e.hdr == nil || e.hdr.Typeflag != tar.TypeReg || e.body != want {
			t.Errorf("/%s = %q, want\n%s", p, e.body, want)
		}
	}
	// base-files' copies are replaced, not shadowed: its layer no longer carries them and its
	// md5sums no longer claim them.
	for _, e := range readTar(t, layerByName(t, res, "base-files").Tar) {
		if strings.HasSuffix(e.hdr.Name, "os-release") {
			t.Errorf("base-files layer still has %s", e.hdr.Name)
		}
	}
	if sums := fs["var/lib/dpkg/status.d/base-files.md5sums"].body; strings.Contains(sums, "os-release") || !strings.Contains(sums, "etc/debian_version") {
		t.Errorf("base-files.md5sums = %q", sums)
	}

	opts := testOptions()
	opts.Codename, opts.VersionID = "forky", ""
	got := flatten(t, mustAssemble(t, opts))["etc/os-release"].body
	if !strings.HasPrefix(got, "PRETTY_NAME=\"Spartan (Debian GNU/Linux forky)\"\n") || strings.Contains(got, "VERSION_ID") {
		t.Errorf("testing os-release = %q", got)
	}
	opts.Codename = "bad\"name"
	if _, err := Assemble(nil, opts); err == nil || !strings.Contains(err.Error(), "os-release") {
		t.Errorf("err = %v, want an os-release error", err)
	}
}

func TestCABundle(t *testing.T) {
	ca := testkit.Deb{Name: "ca-certificates", Arch: "all", AutoDirs: true, Files: []testkit.File{
		{Path: "/etc/ssl/certs/", Type: tar.TypeDir},
		{Path: "/usr/share/ca-certificates/mozilla/B_Root.crt", Body: "B-CERT\n"},
		{Path: "/usr/share/ca-certificates/mozilla/A_Root.crt", Body: "A-CERT"},
		{Path: "/usr/share/ca-certificates/mozilla/README", Body: "not a cert"},
		{Path: "/usr/sbin/update-ca-certificates", Mode: 0o755, Body: "#!/bin/sh"},
	}}
	extra := testkit.SelfSignedCA("corp root")

	res := mustAssemble(t, testOptions(), ca)
	fs := flatten(t, res)
	if got := fs["etc/ssl/certs/ca-certificates.crt"].body; got != "A-CERT\nB-CERT\n" {
		t.Errorf("bundle = %q", got)
	}
	inLayer := func(res *Result, layer string) bool {
		for _, e := range readTar(t, layerByName(t, res, layer).Tar) {
			if e.hdr.Name == "etc/ssl/certs/ca-certificates.crt" {
				return true
			}
		}
		return false
	}
	if !inLayer(res, "ca-certificates") || inLayer(res, RootfsPackage) {
		t.Error("a bundle built from the package alone belongs in the ca-certificates layer")
	}

	opts := testOptions()
	opts.Certificates = [][]byte{append([]byte("# Corp root, see wiki\n"), extra...)}
	res = mustAssemble(t, opts, ca)
	if got, want := flatten(t, res)["etc/ssl/certs/ca-certificates.crt"].body, "A-CERT\nB-CERT\n"+string(extra); got != want {
		t.Errorf("bundle = %q, want %q", got, want)
	}
	if !inLayer(res, RootfsPackage) {
		t.Error("a bundle with the spec's certificates belongs in the spartan-rootfs layer")
	}

	// Without ca-certificates, the extra certificates alone make the bundle.
	if got := flatten(t, mustAssemble(t, opts))["etc/ssl/certs/ca-certificates.crt"].body; got != string(extra) {
		t.Errorf("bundle without ca-certificates = %q", got)
	}
	if _, ok := flatten(t, mustAssemble(t, testOptions()))["etc/ssl/certs/ca-certificates.crt"]; ok {
		t.Error("a bundle without any certificate")
	}

	for _, bad := range []string{"not pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", string(extra) + "-----BEGIN CERTIFICATE-----\ntruncated"} {
		opts.Certificates = [][]byte{[]byte(bad)}
		if _, err := Assemble(nil, opts); err == nil || !strings.Contains(err.Error(), "certificates[0]") {
			t.Errorf("%.30q: err = %v, want a certificates[0] error", bad, err)
		}
	}
}

func TestStatusRecords(t *testing.T) {
	d := testkit.Deb{Name: "libfoo1", Source: "foo (1.2-1)", Version: "1.2-1+b1", MultiArch: "same", AutoDirs: true,
		Depends: "libc6 (>= 2.34)",
		Files: []testkit.File{
			{Path: "/lib/x86_64-linux-gnu/libfoo.so.1", Body: "elf"},
			{Path: "/usr/share/doc/libfoo1/copyright", Body: "BSD"},
			{Path: "/usr/share/doc/libfoo1/changelog.gz", Body: "log"},
			{Path: "/var/lib/dpkg/info/libfoo1.postinst", Body: "#!/bin/sh\nldconfig\n"},
		}}
	res := mustAssemble(t, testOptions(), d)
	fs := flatten(t, res)
	rec := fs["var/lib/dpkg/status.d/libfoo1"].body
	if !strings.HasPrefix(rec, "Package: libfoo1\nStatus: install ok installed\nSource: foo (1.2-1)\nVersion: 1.2-1+b1\nArchitecture: amd64\n") ||
		!strings.Contains(rec, "Multi-Arch: same\n") || !strings.Contains(rec, "Depends: libc6 (>= 2.34)\n") {
		t.Errorf("status.d/libfoo1 =\n%s", rec)
	}
	want := fmt.Sprintf("%x  usr/lib/x86_64-linux-gnu/libfoo.so.1\n%x  usr/share/doc/libfoo1/copyright\n", md5.Sum([]byte("elf")), md5.Sum([]byte("BSD")))
	if got := fs["var/lib/dpkg/status.d/libfoo1.md5sums"].body; got != want {
		t.Errorf("md5sums =\n%s\nwant\n%s", got, want)
	}
	for _, p := range []string{"var/lib/dpkg/status", "var/lib/dpkg/info/libfoo1.postinst"} {
		if _, ok := fs[p]; ok {
			t.Errorf("/%s present", p)
		}
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "skipped /var/lib/dpkg/info/libfoo1.postinst from libfoo1") {
		t.Errorf("notes = %q", res.Notes)
	}
	// The record lives in the package's layer, so a layer-wise scanner sees it with its files.
	var inOwnLayer bool
	for _, e := range readTar(t, layerByName(t, res, "foo").Tar) {
		inOwnLayer = inOwnLayer || e.hdr.Name == "var/lib/dpkg/status.d/libfoo1"
	}
	if !inOwnLayer {
		t.Error("status.d/libfoo1 is not in the foo layer")
	}
	// spartan-rootfs accounts for the synthesized files.
	rootfs := fs["var/lib/dpkg/status.d/"+RootfsPackage].body
	if !strings.Contains(rootfs, "Package: spartan-rootfs\nStatus: install ok installed\n") || !strings.Contains(rootfs, "Version: 0.1.0\n") {
		t.Errorf("rootfs record =\n%s", rootfs)
	}
	sums := fs["var/lib/dpkg/status.d/"+RootfsPackage+".md5sums"].body
	if want := fmt.Sprintf("%x  etc/passwd\n", md5.Sum([]byte(fs["etc/passwd"].body))); !strings.Contains(sums, want) {
		t.Errorf("rootfs md5sums lacks %q:\n%s", want, sums)
	}
}

func TestRootfsVersion(t *testing.T) {
	for in, want := range map[string]string{"v1.2.3": "1.2.3", "": "0", "dev": "0~dev", "1.0-rc1+git abc": "1.0-rc1+git~abc"} {
		opts := testOptions()
		opts.SpartanVersion = in
		rec := flatten(t, mustAssemble(t, opts))["var/lib/dpkg/status.d/"+RootfsPackage].body
		if !strings.Contains(rec, "\nVersion: "+want+"\n") {
			t.Errorf("SpartanVersion %q: record\n%s\nwant Version %s", in, rec, want)
		}
	}
}

func TestSetuid(t *testing.T) {
	d := testkit.Deb{Name: "login", AutoDirs: true, Files: []testkit.File{
		{Path: "/usr/bin/su", Mode: 0o4755, Body: "su"},
		{Path: "/usr/bin/wall", Mode: 0o2755, Body: "wall", Gid: 5},
		{Path: "/usr/bin/login", Mode: 0o755, Body: "login"},
	}}
	for _, strip := range []bool{true, false} {
		opts := testOptions()
		opts.StripSetuid = strip
		res := mustAssemble(t, opts, d)
		fs := flatten(t, res)
		want := map[string]int64{"usr/bin/su": 0o4755, "usr/bin/wall": 0o2755, "usr/bin/login": 0o755}
		if strip {
			want = map[string]int64{"usr/bin/su": 0o755, "usr/bin/wall": 0o755, "usr/bin/login": 0o755}
		}
		for p, m := range want {
			if got := fs[p].hdr.Mode; got != m {
				t.Errorf("strip=%v: /%s mode %o, want %o", strip, p, got, m)
			}
		}
		if fs["usr/bin/wall"].hdr.Gid != 5 {
			t.Errorf("wall gid %d, want the package's 5", fs["usr/bin/wall"].hdr.Gid)
		}
		notes := strings.Join(res.Notes, "\n")
		if strip != strings.Contains(notes, "cleared setuid on /usr/bin/su (login)") || strip != strings.Contains(notes, "cleared setgid on /usr/bin/wall (login)") {
			t.Errorf("strip=%v: notes %q", strip, res.Notes)
		}
	}
}

func TestTimezone(t *testing.T) {
	tz := testkit.Deb{Name: "tzdata", Arch: "all", AutoDirs: true, Files: []testkit.File{{Path: "/usr/share/zoneinfo/Etc/UTC", Body: "TZif2"}}}
	fs := flatten(t, mustAssemble(t, testOptions(), tz))
	if e := fs["etc/localtime"]; e.hdr == nil || e.hdr.Typeflag != tar.TypeSymlink || e.hdr.Linkname != "/usr/share/zoneinfo/Etc/UTC" {
		t.Errorf("/etc/localtime = %+v", e.hdr)
	}
	if fs["etc/timezone"].body != "Etc/UTC\n" {
		t.Errorf("/etc/timezone = %q", fs["etc/timezone"].body)
	}
	if _, ok := flatten(t, mustAssemble(t, testOptions()))["etc/localtime"]; ok {
		t.Error("/etc/localtime without tzdata would dangle")
	}
}

func TestUserPaths(t *testing.T) {
	d := testkit.Deb{Name: "app", AutoDirs: true, Files: []testkit.File{{Path: "/etc/app.conf", Body: "default"}}}
	opts := testOptions()
	opts.Paths = []Path{
		{Path: "/etc/app.conf", Type: TypeFile, Content: "custom", UID: 65532, GID: 65532, Mode: 0o600},
		{Path: "/data", Type: TypeDirectory, Mode: 0o750 | os.ModeSticky, UID: 65532},
		{Path: "/bin/app", Type: TypeFile, Content: "#!", Mode: 0o755},
		{Path: "/etc/app-link", Type: TypeSymlink, Target: "app.conf"},
		{Path: "/etc/passwd", Type: TypeFile, Content: "root:x:0:0::/:/bin/sh\n"},
	}
	res := mustAssemble(t, opts, d)
	fs := flatten(t, res)
	checks := map[string]struct {
		typ        byte
		mode       int64
		uid        int
		body, link string
	}{
		"etc/app.conf": {tar.TypeReg, 0o600, 65532, "custom", ""},
		"data":         {tar.TypeDir, 0o1750, 65532, "", ""},
		"usr/bin/app":  {tar.TypeReg, 0o755, 0, "#!", ""},
		"etc/app-link": {tar.TypeSymlink, 0o777, 0, "", "app.conf"},
		"etc/passwd":   {tar.TypeReg, 0o644, 0, "root:x:0:0::/:/bin/sh\n", ""},
	}
	for p, w := range checks {
		e := fs[p]
		if e.hdr == nil || e.hdr.Typeflag != w.typ || e.hdr.Mode != w.mode || e.hdr.Uid != w.uid || e.body != w.body || e.hdr.Linkname != w.link {
			t.Errorf("/%s = %+v %q, want %+v", p, e.hdr, e.body, w)
		}
	}
	if _, ok := fs["bin"]; !ok {
		t.Error("no bin compat link although usr/bin exists")
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "spec path /etc/app.conf replaces the regular file from app") {
		t.Errorf("notes = %q", res.Notes)
	}

	bad := []struct {
		p    Path
		want string
	}{
		{Path{Path: "/bin", Type: TypeDirectory}, "merged-/usr link"},
		{Path{Path: "/../etc/x", Type: TypeFile}, `".."`},
		{Path{Path: "/", Type: TypeDirectory}, "root directory"},
		{Path{Path: "/x", Type: "fifo"}, `type "fifo"`},
		{Path{Path: "/x", Type: TypeSymlink}, "needs a target"},
		{Path{Path: "/x", Type: TypeSymlink, Target: "../.."}, "climbs above /"},
		{Path{Path: "/etc", Type: TypeFile}, "/etc is a directory with entries"},
		{Path{Path: "/etc/passwd/x", Type: TypeFile}, "parent /etc/passwd is a regular file"},
	}
	for _, b := range bad {
		o := testOptions()
		o.Paths = []Path{b.p}
		if _, err := Assemble(writeDebs(t, d), o); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%+v: err = %v, want %q", b.p, err, b.want)
		}
	}
}

// TestRealDeb assembles netbase 6.4 as published by Debian.
func TestRealDeb(t *testing.T) {
	in := Input{
		Pkg: &archive.Package{Name: "netbase", Version: "6.4", Architecture: "all"},
		Deb: "../debian/deb/testdata/netbase_6.4_all.deb",
	}
	res, err := Assemble([]Input{in}, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	fs := flatten(t, res)
	if e := fs["etc/services"]; len(e.body) != 12813 || e.hdr.Mode != 0o644 {
		t.Errorf("/etc/services: %d bytes mode %o", len(e.body), e.hdr.Mode)
	}
	if res.Trimmed != 1 { // changelog.gz
		t.Errorf("Trimmed = %d, want 1", res.Trimmed)
	}
	if got := fs["var/lib/dpkg/status.d/netbase.md5sums"].body; got != "78dd2c7c6f487348e4a0092c17a19d42  usr/share/doc/netbase/copyright\n" {
		t.Errorf("md5sums = %q", got)
	}
	if got := fs["var/lib/dpkg/status.d/netbase"].body; !strings.HasPrefix(got, "Package: netbase\nStatus: install ok installed\nVersion: 6.4\n") {
		t.Errorf("record = %q", got)
	}
}
