package deb

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/spartan-images/spartan/internal/testkit"
)

// FuzzRead feeds arbitrary bytes to Read: it must return an error or a parsed package, never
// panic, hang or allocate without bound. Seeds live in testdata/fuzz/FuzzRead (see
// TestWriteFuzzCorpus). They are whole packages, so keep minimization short:
//
//	go test ./internal/debian/deb -run '^$' -fuzz FuzzRead -fuzztime 30s -fuzzminimizetime 2s
func FuzzRead(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		entries := 0
		info, err := Read(bytes.NewReader(raw), func(hdr *tar.Header, body io.Reader) error {
			entries++
			_, err := io.Copy(io.Discard, io.LimitReader(body, 1<<20))
			return err
		})
		if err != nil {
			return
		}
		if info.Control.Get("Package") == "" {
			t.Fatalf("success without a Package field: %q", info.Control.String())
		}
	})
}

// TestWriteFuzzCorpus regenerates the seed corpus from small valid packages:
//
//	SPARTAN_WRITE_CORPUS=1 go test ./internal/debian/deb -run TestWriteFuzzCorpus
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("SPARTAN_WRITE_CORPUS") == "" {
		t.Skip("set SPARTAN_WRITE_CORPUS=1 to rewrite testdata/fuzz/FuzzRead")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzRead")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, raw []byte) {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", raw)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []string{"xz", "zstd", "gzip", "none"} {
		d := testkit.Deb{
			Name: "seed", Compression: c, AutoDirs: true,
			ControlFiles: map[string]string{"conffiles": "/etc/seed\n"},
			Files: []testkit.File{
				{Path: "/etc/seed", Body: "x=1\n"},
				{Path: "/usr/bin/seed", Mode: 0o4755, Body: "#!"},
				{Path: "/usr/bin/seed2", Type: tar.TypeLink, Link: "/usr/bin/seed"},
				{Path: "/usr/lib/seed.so", Type: tar.TypeSymlink, Link: "../../lib/seed.so.1"},
			},
		}
		raw, err := d.Build()
		if err != nil {
			t.Fatal(err)
		}
		write("seed-"+c, raw)
		if c == "none" {
			write("seed-none-truncated", raw[:len(raw)/2])
		}
	}
	real, err := os.ReadFile(filepath.Join("testdata", "netbase_6.4_all.deb"))
	if err != nil {
		t.Fatal(err)
	}
	write("netbase", real)
}
