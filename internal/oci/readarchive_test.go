package oci

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadArchives(t *testing.T) {
	img := mustImage(t, testLayers(t), testConfig())
	dir := t.TempDir()
	ociPath, dockerPath := filepath.Join(dir, "oci.tar"), filepath.Join(dir, "docker.tar")
	if err := WriteOCIArchive(ociPath, img, []string{"example/x:1"}); err != nil {
		t.Fatal(err)
	}
	if err := WriteArchive(dockerPath, img, []string{"example/x:1"}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{ociPath: true, dockerPath: false} {
		got, err := ArchiveIsOCI(path)
		if err != nil || got != want {
			t.Errorf("ArchiveIsOCI(%s) = %v, %v; want %v", filepath.Base(path), got, err, want)
		}
	}
	out, cleanup, err := UnpackArchive(ociPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "index.json")); err != nil {
		t.Errorf("unpacked layout lacks index.json: %v", err)
	}
	cleanup()
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("cleanup left %s", out)
	}
}

func TestUnpackArchiveRefusesEscape(t *testing.T) {
	path := filepath.Join(t.TempDir(), "evil.tar")
	f, _ := os.Create(path)
	tw := tar.NewWriter(f)
	tw.WriteHeader(&tar.Header{Name: "oci-layout", Mode: 0o644, Size: 0})
	tw.WriteHeader(&tar.Header{Name: "../escape", Mode: 0o644, Size: 1})
	tw.Write([]byte("x"))
	tw.Close()
	f.Close()
	if _, _, err := UnpackArchive(path); err == nil || !strings.Contains(err.Error(), "leaves the archive") {
		t.Fatalf("err = %v", err)
	}
}
