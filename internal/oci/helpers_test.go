package oci

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// makeTar returns a deterministic tar of regular files (sorted, fixed mtime
// and owner), like the ones internal/assemble produces.
func makeTar(t testing.TB, files map[string]string) []byte {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		body := files[n]
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func testLayers(t testing.TB) []Layer {
	return []Layer{
		{Name: "base", Tar: makeTar(t, map[string]string{"etc/passwd": "root:x:0:0:root:/root:/sbin/nologin\n", "etc/os-release": "ID=debian\n"})},
		{Name: "libc", Tar: makeTar(t, map[string]string{"usr/lib/libc.so.6": string(bytes.Repeat([]byte("libc"), 10000))})},
		{Name: "app", Tar: makeTar(t, map[string]string{"usr/bin/app": "#!app\n"})},
	}
}

func testConfig() Config {
	return Config{
		Arch:        "amd64",
		User:        "65532:65532",
		WorkingDir:  "/home/nonroot",
		Env:         []string{"PATH=/usr/local/bin:/usr/bin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", "A=b=c"},
		Entrypoint:  []string{"/usr/bin/app"},
		Cmd:         []string{"--help"},
		Labels:      map[string]string{"org.opencontainers.image.title": "base", "z": "last", "a": "first"},
		Annotations: map[string]string{"org.opencontainers.image.source": "https://example.invalid/spartan"},
		Created:     time.Date(2024, 5, 1, 12, 30, 45, 0, time.UTC),
		History:     []string{"spartan: packages base-files", "spartan: packages libc6", "spartan: packages app"},
	}
}

func mustImage(t testing.TB, layers []Layer, cfg Config) v1.Image {
	t.Helper()
	img, err := Image(layers, cfg)
	if err != nil {
		t.Fatalf("Image: %v", err)
	}
	return img
}

func mustDigest(t testing.TB, x interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	d, err := Digest(x)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// dirNames lists a directory's entries, to check that nothing was left over.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
