package build

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/spec"
	"github.com/spartan-images/spartan/internal/testkit"
)

// customArchive is fakeArchive plus a library the custom image adds, and, when update is set,
// a security suite with a newer app (a package of the base).
func customArchive(t *testing.T, update bool) (*testkit.Server, *testkit.Repo) {
	t.Helper()
	_, repo := fakeArchive(t, "1.0")
	main := repo.Suites["trixie"].Components["main"]
	repo.Suites["trixie"].Components["main"] = append(main,
		testkit.Deb{Name: "libextra1", Version: "3.0", Source: "extra", Depends: "libc6", AutoDirs: true, Files: []testkit.File{
			{Path: "/usr/lib/x86_64-linux-gnu/libextra.so.1", Body: "\x7fELF extra"},
		}})
	suites := []testkit.Deb{}
	if update {
		fixed := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		suites = append(suites, testkit.Deb{Name: "app", Version: "1.0+deb13u1", Depends: "libc6 (>= 2.38), bash", Date: fixed, AutoDirs: true, Files: []testkit.File{
			{Path: "/usr/bin/app", Body: "\x7fELF app fixed", Mode: 0o4755},
		}})
	}
	repo.Suites["trixie-security"] = &testkit.Suite{Codename: "trixie-security", Version: "13", Components: map[string][]testkit.Deb{"main": suites}}
	return repo.Serve(t), repo
}

// writeCustom writes a base spec and a spec extending it with a package, files and a probe.
func writeCustom(t *testing.T, url string, repo *testkit.Repo) (base, child *spec.Spec) {
	t.Helper()
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "base"), 0o755))
	must(t, os.MkdirAll(filepath.Join(dir, "app", "www"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "base", "archive.asc"), repo.ArmoredPublicKey(), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "base", "spartan.yaml"), []byte(`name: base
repositories:
  - url: `+url+`
    suites: [trixie, trixie-security]
    keyring: archive.asc
packages: [app, ca-certificates, tzdata]
# A cut dependency: the base's closure must still be found among the custom image's packages.
exclude: [bash]
entrypoint: [/usr/bin/app]
# Fewer layers than groups: some packages share a layer, whose content adding packages must not change.
layers: 4
`), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "app", "www", "index.html"), []byte("hello"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "app", "spartan.yaml"), []byte(`name: myapp
base: ../base
packages: [libextra1]
files:
  - {src: ./www, dest: /srv/www, owner: nonroot}
healthcheck: {probe: "http://127.0.0.1:8080/", interval: 10s}
`), 0o644))
	b, err := spec.Load(filepath.Join(dir, "base"))
	must(t, err)
	c, err := spec.Load(filepath.Join(dir, "app"))
	must(t, err)
	return b, c
}

type builtLayers struct {
	names, digests []string
}

func (l builtLayers) digest(name string) string {
	if i := slices.Index(l.names, name); i >= 0 {
		return l.digests[i]
	}
	return ""
}

func buildLayers(t *testing.T, s *spec.Spec) builtLayers {
	t.Helper()
	out, err := Build(context.Background(), options(t, s, t.TempDir()))
	must(t, err)
	img := out.Images[0]
	ls, err := img.Image.Layers()
	must(t, err)
	cfg, err := img.Image.ConfigFile()
	must(t, err)
	var bl builtLayers
	for i, l := range ls {
		d, err := l.Digest()
		must(t, err)
		bl.digests = append(bl.digests, d.String())
		name := strings.TrimPrefix(cfg.History[i].CreatedBy, "spartan: ")
		name, _, _ = strings.Cut(name, " (")
		bl.names = append(bl.names, name)
	}
	return bl
}

// TestCustomImageSharesBaseLayers: a spec extending another reuses every package layer of the
// base byte for byte and adds its own above; a security update of a base package then changes
// that package's layer (and the synthesized one) in both images, and nothing else.
func TestCustomImageSharesBaseLayers(t *testing.T) {
	srv, repo := customArchive(t, false)
	base, child := writeCustom(t, srv.URL, repo)
	b, c := buildLayers(t, base), buildLayers(t, child)
	wantBase := "ca-certificates libc6 shared spartan-rootfs"
	if got := strings.Join(b.names, " "); got != wantBase {
		t.Fatalf("base layers %q, want %q", got, wantBase)
	}
	wantChild := "ca-certificates libc6 shared extra spartan-rootfs spartan-probe 1.0.0 files /srv/www"
	if got := strings.Join(c.names, " "); got != wantChild {
		t.Fatalf("custom image layers %q, want %q", got, wantChild)
	}
	for i, name := range b.names {
		if name != "spartan-rootfs" && c.digest(name) != b.digests[i] {
			t.Errorf("layer %s differs between the base and the custom image", name)
		}
	}

	srv2, repo2 := customArchive(t, true)
	base2, child2 := writeCustom(t, srv2.URL, repo2)
	b2, c2 := buildLayers(t, base2), buildLayers(t, child2)
	changed := func(old, new builtLayers) string {
		var out []string
		for i, n := range old.names {
			if new.digest(n) != old.digests[i] {
				out = append(out, n)
			}
		}
		return strings.Join(out, " ")
	}
	if got := changed(b, b2); got != "shared spartan-rootfs" {
		t.Errorf("the update changed base layers %q, want app spartan-rootfs", got)
	}
	if got := changed(c, c2); got != "shared spartan-rootfs" {
		t.Errorf("the update changed custom image layers %q, want app spartan-rootfs", got)
	}
	if b2.digest("shared") != c2.digest("shared") {
		t.Error("after the update the app layer differs between the base and the custom image")
	}
}

// TestCustomImageContent: the added package's record, the probe with its record, the
// application's files with the spec's owner, and the HEALTHCHECK in the config.
func TestCustomImageContent(t *testing.T) {
	srv, repo := customArchive(t, false)
	_, child := writeCustom(t, srv.URL, repo)
	out, err := Build(context.Background(), options(t, child, t.TempDir()))
	must(t, err)
	hdrs, bodies := files(t, out)
	for _, p := range []string{"usr/bin/spartan-probe", "var/lib/dpkg/status.d/spartan-probe", "var/lib/dpkg/status.d/libextra1", "var/lib/dpkg/status.d/app"} {
		if hdrs[p] == nil {
			t.Errorf("%s missing", p)
		}
	}
	if !strings.Contains(bodies["var/lib/dpkg/status.d/spartan-probe"], "Version: 1.0.0\n") {
		t.Errorf("probe record:\n%s", bodies["var/lib/dpkg/status.d/spartan-probe"])
	}
	if h := hdrs["srv/www/index.html"]; h == nil || h.Uid != 65532 || h.Gid != 65532 || h.Mode != 0o644 || bodies["srv/www/index.html"] != "hello" ||
		!h.ModTime.Equal(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("index.html: %+v", h)
	}
	cfg, err := out.Images[0].Image.ConfigFile()
	must(t, err)
	hc := cfg.Config.Healthcheck
	if hc == nil || strings.Join(hc.Test, " ") != "CMD /usr/bin/spartan-probe -timeout 4.5s http://127.0.0.1:8080/" || hc.Interval != 10*time.Second || hc.Retries != 3 {
		t.Errorf("healthcheck %+v", hc)
	}
}

func TestCustomImageBadFiles(t *testing.T) {
	srv, repo := customArchive(t, false)
	_, child := writeCustom(t, srv.URL, repo)
	must(t, os.Symlink("../../../../etc", filepath.Join(child.Dir, "www", "escape")))
	_, err := Build(context.Background(), options(t, child, t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "symlink /srv/www/escape → ../../../../etc climbs above /") || !strings.Contains(err.Error(), child.File) {
		t.Errorf("err = %v, want the escaping link refused, naming the spec", err)
	}
}

func TestCustomImageUnknownPackage(t *testing.T) {
	srv, repo := customArchive(t, false)
	_, child := writeCustom(t, srv.URL, repo)
	child.Packages = append(child.Packages, "libnope2")
	_, err := Build(context.Background(), options(t, child, t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "libnope2") || !strings.Contains(err.Error(), "myapp") {
		t.Errorf("err = %v, want the unknown package and the image named", err)
	}
}

// TestCustomImageFromLock: a build from the lockfile finds the base's packages without the
// archive's index (from the dependencies the lock records) and gives the same image.
func TestCustomImageFromLock(t *testing.T) {
	srv, repo := customArchive(t, false)
	_, child := writeCustom(t, srv.URL, repo)
	o := options(t, child, t.TempDir())
	plans, err := Resolve(context.Background(), o)
	must(t, err)
	l, err := NewLock(o, plans)
	must(t, err)
	path := filepath.Join(t.TempDir(), "spartan.lock.json")
	must(t, WriteLock(path, l))
	read, err := ReadLock(path, child, LockStrict)
	must(t, err)
	o.NoLayerCache = true
	locked, err := BuildLocked(context.Background(), o, read)
	must(t, err)
	fresh, err := BuildPlans(context.Background(), o, plans)
	must(t, err)
	if locked.Images[0].Digest != fresh.Images[0].Digest {
		t.Errorf("locked build %s, fresh %s", locked.Images[0].Digest, fresh.Images[0].Digest)
	}
	if n := len(locked.Images[0].Assembly.Layers); n != 5 {
		t.Errorf("%d assembled layers from the lock, want the base's 3, extra and spartan-rootfs", n)
	}
}
