package assemble

import (
	"crypto/md5"
	"fmt"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/testkit"
)

func dpkgTestDebs() []testkit.Deb {
	return []testkit.Deb{
		{Name: "libfoo1", Source: "foo", MultiArch: "same", AutoDirs: true, Files: []testkit.File{
			{Path: "/lib/x86_64-linux-gnu/libfoo.so.1", Body: "elf"},
			{Path: "/usr/share/doc/libfoo1/changelog.gz", Body: "trimmed"},
		}},
		{Name: "foo-bin", AutoDirs: true, Files: []testkit.File{
			{Path: "/usr/bin/foo", Body: "bin"},
			{Path: "/etc/foo.conf", Body: "conf=1\n"},
		}, ControlFiles: map[string]string{"conffiles": "/etc/foo.conf\n"}},
		{Name: "apt", AutoDirs: true, Files: []testkit.File{{Path: "/usr/bin/apt-get", Body: "apt"}}},
		{Name: "debian-archive-keyring", Arch: "all", AutoDirs: true, Files: []testkit.File{
			{Path: "/usr/share/keyrings/debian-archive-keyring.gpg", Body: "keys"},
		}},
	}
}

func TestDpkgDatabase(t *testing.T) {
	opts := testOptions()
	opts.DpkgDatabase = true
	opts.AptSources = []AptSource{
		{URI: "http://mirror.invalid/debian", Suites: []string{"trixie", "trixie-updates"}, Components: []string{"main"}},
		{URI: "http://mirror.invalid/extra", Suites: []string{"stable"}, Components: []string{"main", "contrib"},
			Key: []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n"), KeyName: "spartan-repository-2"},
	}
	res := mustAssemble(t, opts, dpkgTestDebs()...)
	fs := flatten(t, res)

	status := fs["var/lib/dpkg/status"].body
	paras := strings.Split(status, "\n\n")
	if len(paras) != 4 {
		t.Fatalf("status has %d paragraphs, want 4 (no spartan-rootfs):\n%s", len(paras), status)
	}
	for i, name := range []string{"apt", "debian-archive-keyring", "foo-bin", "libfoo1"} {
		if !strings.HasPrefix(paras[i], "Package: "+name+"\nStatus: install ok installed\n") {
			t.Errorf("paragraph %d =\n%s", i, paras[i])
		}
	}
	if want := fmt.Sprintf("Conffiles:\n /etc/foo.conf %x", md5.Sum([]byte("conf=1\n"))); !strings.Contains(paras[2], want) {
		t.Errorf("foo-bin lacks %q:\n%s", want, paras[2])
	}

	// Multi-Arch: same packages are named with their architecture in info/.
	list := fs["var/lib/dpkg/info/libfoo1:amd64.list"].body
	if !strings.HasPrefix(list, "/.\n") || !strings.Contains(list, "\n/usr/lib/x86_64-linux-gnu/libfoo.so.1\n") ||
		!strings.Contains(list, "\n/usr/lib\n") || strings.Contains(list, "changelog") {
		t.Errorf("libfoo1:amd64.list =\n%s", list)
	}
	if _, ok := fs["var/lib/dpkg/info/libfoo1.list"]; ok {
		t.Error("libfoo1.list written without its architecture")
	}
	if got, want := fs["var/lib/dpkg/info/foo-bin.md5sums"].body, fmt.Sprintf("%x  usr/bin/foo\n%x  etc/foo.conf\n", md5.Sum([]byte("bin")), md5.Sum([]byte("conf=1\n"))); got != want {
		t.Errorf("foo-bin.md5sums =\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(fs["var/lib/dpkg/info/foo-bin.list"].body, "dpkg/info") {
		t.Errorf("a list names info files:\n%s", fs["var/lib/dpkg/info/foo-bin.list"].body)
	}
	if fs["var/lib/dpkg/info/format"].body != "1\n" {
		t.Errorf("info/format = %q", fs["var/lib/dpkg/info/format"].body)
	}
	for _, p := range []string{"var/lib/dpkg/available", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "var/lib/dpkg/status.d/libfoo1"} {
		if _, ok := fs[p]; !ok {
			t.Errorf("/%s missing", p)
		}
	}
	// A package's info files travel in its own layer.
	var inOwn bool
	for _, e := range readTar(t, layerByName(t, res, "foo").Tar) {
		inOwn = inOwn || e.hdr.Name == "var/lib/dpkg/info/libfoo1:amd64.list"
	}
	if !inOwn {
		t.Error("libfoo1's list is not in the foo layer")
	}

	wantSources := "Types: deb\nURIs: http://mirror.invalid/debian\nSuites: trixie trixie-updates\nComponents: main\n" +
		"Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n" +
		"Types: deb\nURIs: http://mirror.invalid/extra\nSuites: stable\nComponents: main contrib\n" +
		"Signed-By: /etc/apt/keyrings/spartan-repository-2.asc\n"
	if got := fs["etc/apt/sources.list.d/debian.sources"].body; got != wantSources {
		t.Errorf("sources =\n%s\nwant\n%s", got, wantSources)
	}
	if _, ok := fs["etc/apt/keyrings/spartan-repository-2.asc"]; !ok {
		t.Error("the repository's key is not in the image")
	}
}

func TestDpkgDatabaseOff(t *testing.T) {
	fs := flatten(t, mustAssemble(t, testOptions(), dpkgTestDebs()...))
	for _, p := range []string{"var/lib/dpkg/status", "var/lib/dpkg/info/format", "etc/apt/sources.list.d/debian.sources"} {
		if _, ok := fs[p]; ok {
			t.Errorf("/%s written without DpkgDatabase", p)
		}
	}
}

func TestAptSourcesErrors(t *testing.T) {
	tests := []struct {
		name string
		debs []testkit.Deb
		src  AptSource
		want string
	}{
		{"no Debian keys", dpkgTestDebs()[:3], AptSource{URI: "http://m.invalid/d", Suites: []string{"trixie"}, Components: []string{"main"}},
			"add debian-archive-keyring"},
		{"bad key name", dpkgTestDebs(), AptSource{URI: "http://m.invalid/d", Suites: []string{"s"}, Key: []byte("k"), KeyName: "../x"},
			"key name"},
		{"line break", dpkgTestDebs(), AptSource{URI: "http://m.invalid/d\nX: y", Suites: []string{"s"}},
			"without line breaks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions()
			opts.DpkgDatabase = true
			opts.AptSources = []AptSource{tt.src}
			_, err := Assemble(writeDebs(t, tt.debs...), opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
