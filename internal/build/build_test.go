package build

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/cache"
	"github.com/spartan-images/spartan/internal/spec"
	"github.com/spartan-images/spartan/internal/testkit"
)

// appDate is when the fake archive's app was built; every other package has testkit.DefaultDate.
var appDate = testkit.DefaultDate.Add(24 * time.Hour)

// fakeArchive serves a small signed repository shaped like Debian's: a libc with its loader in
// the pre-merged-/usr place, CA certificates, tzdata, an app that depends on a shell.
func fakeArchive(t *testing.T, appVersion string) (*testkit.Server, *testkit.Repo) {
	t.Helper()
	repo, err := testkit.NewRepo()
	if err != nil {
		t.Fatal(err)
	}
	debs := []testkit.Deb{
		{Name: "libc6", Version: "2.41-12", AutoDirs: true, Files: []testkit.File{
			{Path: "/lib/x86_64-linux-gnu/libc.so.6", Body: "\x7fELF libc", Mode: 0o755},
			{Path: "/lib64/ld-linux-x86-64.so.2", Type: tar.TypeSymlink, Link: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"},
			{Path: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", Body: "\x7fELF ld", Mode: 0o755},
			{Path: "/usr/share/doc/libc6/copyright", Body: "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nLicense: LGPL-2.1+\n"},
			{Path: "/usr/share/doc/libc6/changelog.Debian.gz", Body: "changes"},
		}},
		{Name: "ca-certificates", Version: "20250419", Arch: "all", Depends: "debconf (>= 0.5) | debconf-2.0", AutoDirs: true, Files: []testkit.File{
			{Path: "/usr/share/ca-certificates/mozilla/Test_Root.crt", Body: testCert},
		}},
		{Name: "tzdata", Version: "2026f-0", Arch: "all", AutoDirs: true, Files: []testkit.File{
			{Path: "/usr/share/zoneinfo/Etc/UTC", Body: "TZif2"},
		}},
		{Name: "bash", Version: "5.2", AutoDirs: true, Files: []testkit.File{{Path: "/bin/bash", Body: "\x7fELF bash", Mode: 0o755}}},
		{Name: "debconf", Version: "1.5", Arch: "all", AutoDirs: true, Files: []testkit.File{{Path: "/usr/bin/debconf", Body: "#!/usr/bin/perl"}}},
		// Built a day after the rest, as an update would be: the image's times are not all one.
		{Name: "app", Version: appVersion, Depends: "libc6 (>= 2.38), bash", Date: appDate, AutoDirs: true, Files: []testkit.File{
			{Path: "/usr/bin/app", Body: "\x7fELF app " + appVersion, Mode: 0o4755},
		}},
	}
	repo.Suites["trixie"] = &testkit.Suite{Codename: "trixie", Version: "13.0", Components: map[string][]testkit.Deb{"main": debs}}
	return repo.Serve(t), repo
}

func writeSpec(t *testing.T, dir, url string, repo *testkit.Repo) *spec.Spec {
	t.Helper()
	must(t, os.WriteFile(filepath.Join(dir, "archive.asc"), repo.ArmoredPublicKey(), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "extra.pem"), []byte(testCert), 0o644))
	yaml := `name: app
repositories:
  - url: ` + url + `
    suites: [trixie]
    keyring: archive.asc
packages: [app, ca-certificates, tzdata]
entrypoint: [/usr/bin/app]
certificates: [extra.pem]
tags: [example/app:1]
`
	must(t, os.WriteFile(filepath.Join(dir, "spartan.yaml"), []byte(yaml), 0o644))
	s, err := spec.Load(dir)
	must(t, err)
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func options(t *testing.T, s *spec.Spec, cacheDir string) Options {
	c, err := cache.New(cacheDir)
	must(t, err)
	return Options{
		Spec:       s,
		Downloader: &cache.Downloader{HTTP: http.DefaultClient, Cache: c, Backoff: time.Millisecond},
		Version:    "test",
	}
}

// files flattens an image's layers into path → header and content (later layers win).
func files(t *testing.T, out *Output) (map[string]*tar.Header, map[string]string) {
	t.Helper()
	hdrs, bodies := map[string]*tar.Header{}, map[string]string{}
	layers, err := out.Images[0].Image.Layers()
	must(t, err)
	for _, l := range layers {
		rc, err := l.Uncompressed()
		must(t, err)
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			must(t, err)
			name := strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/")
			b, _ := io.ReadAll(tr)
			hdrs[name], bodies[name] = h, string(b)
		}
		rc.Close()
	}
	return hdrs, bodies
}

func TestBuildEndToEnd(t *testing.T) {
	srv, repo := fakeArchive(t, "1.0")
	s := writeSpec(t, t.TempDir(), srv.URL, repo)
	o := options(t, s, t.TempDir())
	out, err := Build(context.Background(), o)
	must(t, err)
	if len(out.Images) != 1 || out.Index != nil {
		t.Fatalf("want one image and no index, got %d images", len(out.Images))
	}
	var names []string
	for _, p := range out.Images[0].Plan.Result.Packages {
		names = append(names, p.Pkg.Name)
	}
	if got := strings.Join(names, " "); got != "app ca-certificates libc6 tzdata" {
		t.Errorf("packages = %s (bash and debconf must be cut by the runtime profile)", got)
	}
	hdrs, bodies := files(t, out)
	for _, p := range []string{"usr/bin/app", "usr/lib/x86_64-linux-gnu/libc.so.6", "etc/passwd", "etc/group", "etc/os-release",
		"etc/ssl/certs/ca-certificates.crt", "var/lib/dpkg/status.d/app", "var/lib/dpkg/status.d/app.md5sums", "usr/share/doc/libc6/copyright"} {
		if _, ok := hdrs[p]; !ok {
			t.Errorf("image lacks %s", p)
		}
	}
	for _, p := range []string{"usr/bin/bash", "bin/bash", "usr/share/doc/libc6/changelog.Debian.gz", "var/lib/dpkg/status"} {
		if _, ok := hdrs[p]; ok {
			t.Errorf("image has %s", p)
		}
	}
	if h := hdrs["lib64"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "usr/lib64" {
		t.Errorf("lib64 compat link = %+v", h)
	}
	if h := hdrs["usr/bin/app"]; h != nil && h.Mode&0o4000 != 0 {
		t.Errorf("setuid bit kept on usr/bin/app in a runtime image")
	}
	if n := strings.Count(bodies["etc/ssl/certs/ca-certificates.crt"], "BEGIN CERTIFICATE"); n != 2 {
		t.Errorf("CA bundle holds %d certificates, want 2 (package + spec)", n)
	}
	if !strings.Contains(bodies["etc/passwd"], "nonroot:x:65532:65532:") {
		t.Errorf("passwd:\n%s", bodies["etc/passwd"])
	}
	cfg, err := out.Images[0].Image.ConfigFile()
	must(t, err)
	if cfg.Config.User != "65532:65532" || cfg.Config.Entrypoint[0] != "/usr/bin/app" {
		t.Errorf("config user %q entrypoint %v", cfg.Config.User, cfg.Config.Entrypoint)
	}
	if !contains(cfg.Config.Env, "SSL_CERT_FILE="+CABundle) {
		t.Errorf("env %v lacks SSL_CERT_FILE", cfg.Config.Env)
	}

	// Same spec, same versions, warm cache, another process TZ: the same digest.
	first, err := out.Digest()
	must(t, err)
	t.Setenv("TZ", "Asia/Kolkata")
	fresh := o
	fresh.NoLayerCache = true
	again, err := Build(context.Background(), fresh)
	must(t, err)
	second, err := again.Digest()
	must(t, err)
	if first != second {
		t.Fatalf("rebuild digest %s != %s", second, first)
	}
	// And the layer cache gives the same image again without assembling.
	cached, err := Build(context.Background(), o)
	must(t, err)
	third, err := cached.Digest()
	must(t, err)
	if third != first {
		t.Fatalf("digest from cached layers %s != %s", third, first)
	}
	if len(cached.Images[0].Assembly.Layers[0].Tar) != 0 {
		t.Fatalf("the third build assembled again instead of using the cached layers")
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// TestBuildOnePackageUpdateChangesOneLayer checks the layering promise: bumping app changes the
// layer that holds app and nothing else.
func TestBuildOnePackageUpdateChangesOneLayer(t *testing.T) {
	digests := func(version string) []string {
		srv, repo := fakeArchive(t, version)
		s := writeSpec(t, t.TempDir(), srv.URL, repo)
		out, err := Build(context.Background(), options(t, s, t.TempDir()))
		must(t, err)
		layers, err := out.Images[0].Image.Layers()
		must(t, err)
		var ds []string
		for _, l := range layers {
			d, err := l.Digest()
			must(t, err)
			ds = append(ds, d.String())
		}
		return ds
	}
	a, b := digests("1.0"), digests("1.1")
	if len(a) != len(b) {
		t.Fatalf("layer count changed %d → %d", len(a), len(b))
	}
	changed := 0
	for i := range a {
		if a[i] != b[i] {
			changed++
		}
	}
	if changed != 1 {
		t.Fatalf("%d layers changed after a one-package update, want 1", changed)
	}
}

func TestBuildRefusesTamperedPackage(t *testing.T) {
	srv, repo := fakeArchive(t, "1.0")
	s := writeSpec(t, t.TempDir(), srv.URL, repo)
	cacheDir := t.TempDir()
	srv.CorruptPath = "/" + testkit.PoolPath("main", testkit.Deb{Name: "app", Version: "1.0", Arch: "amd64"})
	_, err := Build(context.Background(), options(t, s, cacheDir))
	if err == nil || !strings.Contains(err.Error(), "app") || !strings.Contains(strings.ToLower(err.Error()), "sha256") {
		t.Fatalf("err = %v, want a sha256 mismatch naming app", err)
	}
	// Nothing poisoned: once the mirror serves the right bytes, the same cache builds.
	srv.CorruptPath = ""
	if _, err := Build(context.Background(), options(t, s, cacheDir)); err != nil {
		t.Fatalf("build after the mirror was fixed: %v", err)
	}
}

func TestBuildUnknownPackage(t *testing.T) {
	srv, repo := fakeArchive(t, "1.0")
	dir := t.TempDir()
	s := writeSpec(t, dir, srv.URL, repo)
	s.Packages = append(s.Packages, "ap")
	_, err := Build(context.Background(), options(t, s, t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), `ap`) {
		t.Fatalf("err = %v", err)
	}
	_ = bytes.MinRead
}

// testCert is a real self-signed CA certificate made once per test process.
var testCert = string(testkit.SelfSignedCA("Spartan unit test CA"))

// TestBuildSecurityUpdate builds the spec from the release suite alone, then with the security
// suite that holds a newer app built weeks later: the app layer and the synthesized layer (which
// carries the new creation time) change, every other layer keeps its digest.
func TestBuildSecurityUpdate(t *testing.T) {
	_, repo := fakeArchive(t, "1.0")
	fixed := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	repo.Suites["trixie-security"] = &testkit.Suite{Codename: "trixie-security", Version: "13", Date: fixed, Components: map[string][]testkit.Deb{"main": {
		{Name: "app", Version: "1.0+deb13u1", Depends: "libc6 (>= 2.38), bash", Date: fixed, AutoDirs: true, Files: []testkit.File{
			{Path: "/usr/bin/app", Body: "\x7fELF app fixed", Mode: 0o4755},
		}},
	}}}
	srv := repo.Serve(t) // again, now with the security suite
	layers := func(suites string) (names, digests []string, created time.Time) {
		dir := t.TempDir()
		writeSpec(t, dir, srv.URL, repo)
		yaml, err := os.ReadFile(filepath.Join(dir, "spartan.yaml"))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(dir, "spartan.yaml"), bytes.Replace(yaml, []byte("suites: [trixie]"), []byte("suites: ["+suites+"]"), 1), 0o644))
		s, err := spec.Load(dir)
		must(t, err)
		out, err := Build(context.Background(), options(t, s, t.TempDir()))
		must(t, err)
		img := out.Images[0]
		ls, err := img.Image.Layers()
		must(t, err)
		for i, l := range ls {
			d, err := l.Digest()
			must(t, err)
			names = append(names, img.Assembly.Layers[i].Name)
			digests = append(digests, d.String())
		}
		cfg, err := img.Image.ConfigFile()
		must(t, err)
		return names, digests, cfg.Created.UTC()
	}
	oldNames, oldDigests, oldCreated := layers("trixie")
	newNames, newDigests, newCreated := layers("trixie, trixie-security")
	if strings.Join(oldNames, " ") != strings.Join(newNames, " ") {
		t.Fatalf("layers %v became %v", oldNames, newNames)
	}
	var changed []string
	for i := range oldDigests {
		if oldDigests[i] != newDigests[i] {
			changed = append(changed, oldNames[i])
		}
	}
	if got, want := strings.Join(changed, " "), "app spartan-rootfs"; got != want {
		t.Errorf("changed layers %q, want %q", got, want)
	}
	if !oldCreated.Equal(appDate) || !newCreated.Equal(fixed) {
		t.Errorf("created %v then %v, want %v then %v", oldCreated, newCreated, appDate, fixed)
	}
}
