package scan

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/cache"
	"github.com/spartan-images/spartan/internal/imagesource"
	"github.com/spartan-images/spartan/internal/inventory"
	"github.com/spartan-images/spartan/internal/rootfs"
	"github.com/spartan-images/spartan/internal/spec"
	"github.com/spartan-images/spartan/internal/testkit"
	"github.com/spartan-images/spartan/internal/vuln"
)

var testNow = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// mergedFeed joins real tracker excerpts into one feed (their package names do not overlap).
func mergedFeed(t testing.TB, files ...string) []byte {
	t.Helper()
	all := map[string]json.RawMessage{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		must(t, err)
		var m map[string]json.RawMessage
		must(t, json.Unmarshal(b, &m))
		for k, v := range m {
			if _, dup := all[k]; dup {
				t.Fatalf("%s appears twice", k)
			}
			all[k] = v
		}
	}
	b, err := json.Marshal(all)
	must(t, err)
	return b
}

// realDB imports the real excerpts that have trixie and bookworm records (apparmor, sope,
// chromium…) plus the hand-written statuses file.
func realDB(t testing.TB) *vuln.DB {
	t.Helper()
	feed := mergedFeed(t,
		"../vuln/testdata/tracker/osv.dev_debian_security_tracker_mock.json",
		"../vuln/testdata/tracker/vunnel_debian.json",
		"../vuln/testdata/statuses.json")
	path := filepath.Join(t.TempDir(), "vuln.db")
	_, err := vuln.ImportTracker(path, bytes.NewReader(feed), vuln.Meta{URL: "test"}, testNow)
	must(t, err)
	db, err := vuln.Open(path)
	must(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// buildImage builds a trixie image with internal/build from a signed fake repository whose
// packages carry the names and versions of real vulnerable Debian packages.
func buildImage(t testing.TB) *build.Output {
	t.Helper()
	repo, err := testkit.NewRepo()
	must(t, err)
	debs := []testkit.Deb{
		{Name: "libc6", Version: "2.41-12", Source: "glibc", AutoDirs: true, Files: []testkit.File{
			{Path: "/usr/lib/x86_64-linux-gnu/libc.so.6", Body: "\x7fELF libc", Mode: 0o755},
			{Path: "/lib64/ld-linux-x86-64.so.2", Type: tar.TypeSymlink, Link: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"},
			{Path: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", Body: "\x7fELF ld", Mode: 0o755},
		}},
		{Name: "libapparmor1", Version: "3.0.11-1", Source: "apparmor", Depends: "libc6", AutoDirs: true, Files: []testkit.File{
			{Path: "/usr/lib/x86_64-linux-gnu/libapparmor.so.1", Body: "\x7fELF apparmor", Mode: 0o644},
		}},
		// A binNMU: the binary is 5.12.1-1+b1, the tracker speaks of the source, 5.12.1-1.
		{Name: "libsope1", Version: "5.12.1-1+b1", Source: "sope", Depends: "libc6", AutoDirs: true, Files: []testkit.File{
			{Path: "/usr/lib/x86_64-linux-gnu/libsope.so.1", Body: "\x7fELF sope", Mode: 0o644},
		}},
		{Name: "app", Version: "1.0", Depends: "libapparmor1, libsope1, bash", AutoDirs: true, Files: []testkit.File{
			{Path: "/usr/bin/app", Body: "\x7fELF app", Mode: 0o755},
		}},
		{Name: "bash", Version: "5.2.37-2", AutoDirs: true, Files: []testkit.File{{Path: "/usr/bin/bash", Body: "\x7fELF bash", Mode: 0o755}}},
	}
	repo.Suites["trixie"] = &testkit.Suite{Codename: "trixie", Version: "13.0", Components: map[string][]testkit.Deb{"main": debs}}
	srv := repo.Serve(t)
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "archive.asc"), repo.ArmoredPublicKey(), 0o644))
	yaml := "name: app\nrepositories:\n  - url: " + srv.URL + "\n    suites: [trixie]\n    keyring: archive.asc\npackages: [app]\n"
	must(t, os.WriteFile(filepath.Join(dir, "spartan.yaml"), []byte(yaml), 0o644))
	s, err := spec.Load(dir)
	must(t, err)
	c, err := cache.New(t.TempDir())
	must(t, err)
	out, err := build.Build(context.Background(), build.Options{
		Spec: s, Downloader: &cache.Downloader{HTTP: http.DefaultClient, Cache: c, Backoff: time.Millisecond}, Version: "test",
	})
	must(t, err)
	return out
}

type tarFile struct {
	name, body, link string
}

// fromFiles scans a one-layer file system made of files.
func fromFiles(t testing.TB, target string, files ...tarFile) (*Inventory, error) {
	t.Helper()
	l, err := rootfs.ReadLayer(tarOf(t, files...), inventory.Records.Files(nil))
	must(t, err)
	installed, err := inventory.Read(rootfs.New([]*rootfs.Layer{l}))
	if err != nil {
		return nil, err
	}
	return FromInstalled(installed, target)
}

func tarOf(t testing.TB, files ...tarFile) io.Reader {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}
		if f.link != "" {
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, f.link, 0
		}
		must(t, tw.WriteHeader(h))
		_, err := tw.Write([]byte(f.body))
		must(t, err)
	}
	must(t, tw.Close())
	return &buf
}

// loadImage reads target's inventory as `spartan scan` does: opened by imagesource, the
// host's platform of an index.
func loadImage(t testing.TB, target string) (*Inventory, error) {
	t.Helper()
	src, err := imagesource.Open(context.Background(), target)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	img, _, err := src.Image("")
	if err != nil {
		return nil, err
	}
	return FromImage(img, target)
}
