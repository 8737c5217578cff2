package build

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/spartan-images/spartan/internal/cache"
	"github.com/spartan-images/spartan/internal/inventory"
	"github.com/spartan-images/spartan/internal/spec"
	"github.com/spartan-images/spartan/internal/testkit"
)

// alpineFixture serves main and community of a generated, RSA-signed Alpine repository and
// writes a spec trusting its key.
func alpineFixture(t *testing.T, specText string, main ...testkit.APK) (*testkit.APKServer, *spec.Spec, *cache.Downloader) {
	t.Helper()
	key, err := testkit.NewAPKKey("testkit-5f3a.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	srv := testkit.ServeAPK(t,
		&testkit.APKRepo{Key: key, Prefix: "v3.22/main/", Packages: main},
		&testkit.APKRepo{Key: key, Prefix: "v3.22/community/", Packages: []testkit.APK{{Name: "extra", Version: "1-r0"}}})
	dir := t.TempDir()
	keyFile := filepath.Join(dir, key.Name)
	if err := os.WriteFile(keyFile, key.PublicPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(specText, "KEYFILE", keyFile)
	s, err := spec.Parse(filepath.Join(dir, "spartan.yaml"), []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if s, err = s.Variant(""); err != nil {
		t.Fatal(err)
	}
	ch, err := cache.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return srv, s, &cache.Downloader{Cache: ch, Retries: -1}
}

var (
	apkMusl = testkit.APK{Name: "musl", Version: "1.2.5-r10", Provides: []string{"so:libc.musl-x86_64.so.1=1"}, Files: []testkit.File{
		{Path: "lib/", Type: tar.TypeDir}, {Path: "lib/ld-musl-x86_64.so.1", Body: "\x7fELF", Mode: 0o755}}}
	apkHello = testkit.APK{Name: "hello", Version: "2.1-r0", Depends: []string{"so:libc.musl-x86_64.so.1", "/bin/sh"},
		Files: []testkit.File{{Path: "usr/bin/", Type: tar.TypeDir}, {Path: "usr/bin/hello", Body: "\x7fELF hello", Mode: 0o755}}}
	apkBusybox = testkit.APK{Name: "busybox", Version: "1.37.0-r0", Provides: []string{"/bin/sh", "cmd:sh"},
		Files: []testkit.File{{Path: "bin/", Type: tar.TypeDir}, {Path: "bin/busybox", Body: "\x7fELF bb", Mode: 0o755}}}
)

const alpineSpec = `name: hello
distro: alpine
release: v3.22
packages: [hello]
entrypoint: [/usr/bin/hello]
repositories:
  - archive: main
    keyring: KEYFILE
`

func TestBuildAlpine(t *testing.T) {
	srv, s, dl := alpineFixture(t, alpineSpec, apkMusl, apkHello, apkBusybox)
	out, err := Build(context.Background(), Options{Spec: s, Mirrors: Mirrors{Alpine: srv.URL}, Downloader: dl})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"hello-2.1-r0.apk", "musl-1.2.5-r10.apk"} {
		if !dl.Cache.Has(sumHex(srv.Files["v3.22/main/x86_64/"+f])) {
			t.Errorf("the cache lacks the verified %s", f)
		}
	}
	if dl.Cache.Has(sumHex(srv.Files["v3.22/main/x86_64/busybox-1.37.0-r0.apk"])) {
		t.Error("the cache holds busybox, which the runtime image cut")
	}
	img := out.Images[0].Image
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Config.User != "65532:65532" || cfg.Architecture != "amd64" || cfg.Config.Labels["io.spartan.distro"] != "alpine" {
		t.Errorf("config: user %q arch %q labels %v", cfg.Config.User, cfg.Architecture, cfg.Config.Labels)
	}
	names := map[string]bool{}
	tr := tar.NewReader(mutate.Extract(img))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names[h.Name] = true
	}
	for _, want := range []string{"usr/bin/hello", "lib/ld-musl-x86_64.so.1", "lib/apk/db/installed", "etc/passwd", "etc/os-release"} {
		if !names[want] {
			t.Errorf("image lacks %s", want)
		}
	}
	if names["bin/sh"] || names["bin/busybox"] {
		t.Error("runtime image holds busybox")
	}
	inv, err := inventory.FromImage(img, inventory.Full, nil)
	if err != nil {
		t.Fatal(err)
	}
	var purls []string
	for _, p := range inv.Packages {
		purls = append(purls, p.PURL(inv.OS).String())
	}
	if got := strings.Join(purls, " "); got != "pkg:apk/alpine/hello@2.1-r0?arch=x86_64&distro=alpine-3.22 pkg:apk/alpine/musl@1.2.5-r10?arch=x86_64&distro=alpine-3.22" {
		t.Errorf("purls %s", got)
	}
	// Same inputs, same digest.
	again, err := Build(context.Background(), Options{Spec: s, Mirrors: Mirrors{Alpine: srv.URL}, Downloader: dl})
	if err != nil || again.Images[0].Digest != out.Images[0].Digest {
		t.Errorf("rebuild digest %v, %v; want %s", again, err, out.Images[0].Digest)
	}
}

func TestResolveAlpine(t *testing.T) {
	srv, s, dl := alpineFixture(t, alpineSpec, apkMusl, apkHello, apkBusybox)
	rs, err := ResolveAlpine(context.Background(), Options{Spec: s, Mirrors: Mirrors{Alpine: srv.URL}, Downloader: dl})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := WriteResolutions(&b, rs); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"hello", "requested", "musl", "hello depends on so:libc.musl-x86_64.so.1", "main",
		"amd64: 2 packages", "cut: hello → /bin/sh (/bin/sh): shell: not in runtime images"} {
		if !strings.Contains(out, want) {
			t.Errorf("resolve output lacks %q:\n%s", want, out)
		}
	}
}

func TestBuildAlpineRefusals(t *testing.T) {
	t.Run("key not trusted", func(t *testing.T) {
		srv, s, dl := alpineFixture(t, strings.Replace(alpineSpec, "    keyring: KEYFILE\n", "", 1), apkMusl, apkHello)
		_, err := Build(context.Background(), Options{Spec: s, Mirrors: Mirrors{Alpine: srv.URL}, Downloader: dl})
		if err == nil || !strings.Contains(err.Error(), "testkit-5f3a.rsa.pub, which is not a trusted key") {
			t.Fatalf("error %v", err)
		}
		// The index signed by an untrusted key is not kept for a later build to trust.
		var kept []string
		filepath.WalkDir(dl.Cache.Dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				kept = append(kept, p)
			}
			return nil
		})
		if len(kept) != 0 {
			t.Errorf("the refused index left %v in the cache", kept)
		}
	})
	t.Run("no mirror", func(t *testing.T) {
		_, s, dl := alpineFixture(t, alpineSpec, apkMusl, apkHello)
		t.Setenv(EnvAlpineMirror, "")
		_, err := Build(context.Background(), Options{Spec: s, Downloader: dl})
		if err == nil || !strings.Contains(err.Error(), "no Alpine mirror configured") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("package tampered on the mirror", func(t *testing.T) {
		srv, s, dl := alpineFixture(t, alpineSpec, apkMusl, apkHello)
		p := "v3.22/main/x86_64/hello-2.1-r0.apk"
		b := srv.Files[p]
		srv.Set(p, b[:len(b)-20])
		_, err := Build(context.Background(), Options{Spec: s, Mirrors: Mirrors{Alpine: srv.URL}, Downloader: dl})
		if err == nil || !strings.Contains(err.Error(), "hello-2.1-r0.apk") || !strings.Contains(err.Error(), "truncated") {
			t.Fatalf("error %v", err)
		}
		// hello is fetched first (packages go by name), so the cache must hold nothing.
		if blobs, _ := filepath.Glob(filepath.Join(dl.Cache.Dir, "blobs", "sha256", "*")); len(blobs) != 0 {
			t.Errorf("refused package left %v in the cache", blobs)
		}
	})
}

// TestBuildAlpineFilesAndProbe: the spec's files: and the health probe are layers above the
// packages as on Debian; an Alpine spec cannot extend a Debian one.
func TestBuildAlpineFilesAndProbe(t *testing.T) {
	srv, s, dl := alpineFixture(t, alpineSpec+`files:
  - {src: ./app, dest: /app, owner: "65532:65532"}
healthcheck:
  probe: tcp://127.0.0.1:8080
`, apkMusl, apkHello)
	if err := os.MkdirAll(filepath.Join(s.Dir, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "app", "main.py"), []byte("print(1)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := Build(context.Background(), Options{Spec: s, Mirrors: Mirrors{Alpine: srv.URL}, Downloader: dl})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range out.Images[0].Assembly.Layers {
		names = append(names, l.Name)
	}
	cfg, err := out.Images[0].Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	var hist []string
	for _, h := range cfg.History {
		hist = append(hist, h.CreatedBy)
	}
	if got := strings.Join(names, " "); got != "hello musl spartan-rootfs" {
		t.Errorf("package layers %s", got)
	}
	if got := strings.Join(hist, "|"); !strings.Contains(got, "spartan: spartan-probe") || !strings.Contains(got, "spartan: files /app") {
		t.Errorf("history %s", got)
	}
	if cfg.Config.Healthcheck == nil || len(cfg.Config.Healthcheck.Test) == 0 {
		t.Errorf("no healthcheck in the config: %+v", cfg.Config.Healthcheck)
	}
	names = nil
	tr := tar.NewReader(mutate.Extract(out.Images[0].Image))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, h.Name)
	}
	if all := " " + strings.Join(names, " ") + " "; !strings.Contains(all, " app/main.py ") || !strings.Contains(all, "spartan-probe") {
		t.Errorf("the image lacks the files or the probe: %s", all)
	}

	_, based, _ := alpineFixture(t, alpineSpec, apkMusl)
	based.Base = &spec.Spec{Name: "base", Distro: "debian"}
	if _, err := Build(context.Background(), Options{Spec: based, Mirrors: Mirrors{Alpine: srv.URL}, Downloader: dl}); err == nil || !strings.Contains(err.Error(), "base: base builds from debian packages") {
		t.Errorf("base: on an Alpine spec: %v", err)
	}
}

// TestBuildAlpineLayerCache: a second build of the same packages reuses the cached layers and
// gives the same image as a build that assembles afresh.
func TestBuildAlpineLayerCache(t *testing.T) {
	srv, s, dl := alpineFixture(t, alpineSpec, apkMusl, apkHello)
	var logs strings.Builder
	o := Options{Spec: s, Mirrors: Mirrors{Alpine: srv.URL}, Downloader: dl, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	first, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "reused cached layers") {
		t.Fatal("the first build hit the layer cache")
	}
	second, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "reused cached layers") {
		t.Error("the second build assembled again")
	}
	o.NoLayerCache = true
	fresh, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if second.Images[0].Digest != first.Images[0].Digest || fresh.Images[0].Digest != first.Images[0].Digest {
		t.Errorf("digests: first %s, cached %s, afresh %s", first.Images[0].Digest, second.Images[0].Digest, fresh.Images[0].Digest)
	}
}

// TestBuildAlpineCustomImage: a spec extending an Alpine spec (base:) lays the base's packages
// out as the base image does, so their layers are byte-identical in both images.
func TestBuildAlpineCustomImage(t *testing.T) {
	libfoo := testkit.APK{Name: "libfoo", Version: "1.0-r0", Origin: "foo", Depends: []string{"so:libc.musl-x86_64.so.1"},
		Provides: []string{"so:libfoo.so.1=1"}, Files: []testkit.File{{Path: "usr/lib/", Type: tar.TypeDir}, {Path: "usr/lib/libfoo.so.1", Body: "\x7fELF foo"}}}
	app := testkit.APK{Name: "app", Version: "2.0-r0", Depends: []string{"so:libfoo.so.1"},
		Files: []testkit.File{{Path: "usr/bin/", Type: tar.TypeDir}, {Path: "usr/bin/app", Body: "\x7fELF app", Mode: 0o755}}}
	dir := t.TempDir()
	key, err := testkit.NewAPKKey("testkit-5f3a.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	srv := testkit.ServeAPK(t,
		&testkit.APKRepo{Key: key, Prefix: "v3.22/main/", Packages: []testkit.APK{apkMusl, apkHello, libfoo, app}},
		&testkit.APKRepo{Key: key, Prefix: "v3.22/community/", Packages: []testkit.APK{{Name: "extra", Version: "1-r0"}}})
	dl := freshDownloader(t)
	write := func(p, text string) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write(filepath.Join(dir, key.Name), string(key.PublicPEM()))
	baseFile := write(filepath.Join(dir, "base", "spartan.yaml"), `name: base
distro: alpine
release: v3.22
packages: [hello, libfoo]
repositories:
  - archive: main
    keyring: ../`+key.Name+`
`)
	appFile := write(filepath.Join(dir, "app", "spartan.yaml"), "name: app\nbase: ../base\npackages: [app]\n")
	build := func(file string) *Output {
		t.Helper()
		s, err := spec.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		if s, err = s.Variant(""); err != nil {
			t.Fatal(err)
		}
		out, err := Build(context.Background(), Options{Spec: s, Mirrors: Mirrors{Alpine: srv.URL}, Downloader: dl, NoLayerCache: true})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	base, custom := build(baseFile), build(appFile)
	layers := func(o *Output) map[string][]byte {
		m := map[string][]byte{}
		for _, l := range o.Images[0].Assembly.Layers {
			m[l.Name] = l.Tar
		}
		return m
	}
	var names []string
	for _, l := range custom.Images[0].Assembly.Layers {
		names = append(names, l.Name+"="+strings.Join(l.Packages, ","))
	}
	if got := strings.Join(names, " "); got != "foo=libfoo hello=hello musl=musl app=app spartan-rootfs=spartan-rootfs" {
		t.Errorf("custom image layers %s", got)
	}
	bl, cl := layers(base), layers(custom)
	for _, name := range []string{"foo", "hello", "musl"} {
		if bl[name] == nil || !bytes.Equal(bl[name], cl[name]) {
			t.Errorf("the base's %s layer differs in the custom image", name)
		}
	}
}
