package imageref

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/oci"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func image(t *testing.T, arch, variant string) v1.Image {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := "for " + arch + variant
	must(t, tw.WriteHeader(&tar.Header{Name: "etc/arch", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}))
	_, err := tw.Write([]byte(body))
	must(t, err)
	must(t, tw.Close())
	img, err := oci.Image([]oci.Layer{{Name: "l", Tar: buf.Bytes()}}, oci.Config{Arch: arch, Variant: variant})
	must(t, err)
	return img
}

// digest identifies an image by its config: a docker archive re-encodes the manifest.
func digest(t *testing.T, img v1.Image) v1.Hash {
	d, err := img.ConfigName()
	must(t, err)
	return d
}

func TestLoadImage(t *testing.T) {
	amd, arm64, armhf, armel := image(t, "amd64", ""), image(t, "arm64", ""), image(t, "arm", "v7"), image(t, "arm", "v5")
	idx, err := oci.Index([]v1.Image{amd, arm64, armhf, armel}, nil)
	must(t, err)
	dir := t.TempDir()
	multi := filepath.Join(dir, "multi")
	must(t, oci.WriteLayout(multi, idx, "example/x:1"))
	single := filepath.Join(dir, "single")
	must(t, oci.WriteLayout(single, amd, "example/x:1"))
	archive := filepath.Join(dir, "x.tar")
	must(t, oci.WriteArchive(archive, arm64, []string{"example/x:1"}))
	ociArchive := filepath.Join(dir, "multi.tar")
	must(t, oci.WriteOCIArchive(ociArchive, idx, []string{"example/x:1"}))
	notLayout := t.TempDir()
	must(t, os.WriteFile(filepath.Join(notLayout, "f"), nil, 0o644))

	tests := []struct {
		src, arch string
		want      v1.Image
		err       string
	}{
		{single, "", amd, ""},
		{single, "amd64", amd, ""},
		{single, "arm64", nil, "no image for architecture arm64; it has amd64"},
		{multi, "amd64", amd, ""},
		{multi, "arm64", arm64, ""},
		{multi, "armhf", armhf, ""},
		{multi, "armel", armel, ""},
		{multi, "", nil, "choose one with --arch"},
		{archive, "", arm64, ""},
		{archive, "arm64", arm64, ""},
		{archive, "amd64", nil, "is for arm64, not amd64"},
		{ociArchive, "arm64", arm64, ""},
		{ociArchive, "armhf", armhf, ""},
		{ociArchive, "", nil, "multi.tar: holds images for"},
		{ociArchive, "s390x", nil, "no image for architecture s390x"},
		{notLayout, "", nil, "not an OCI image layout"},
		{filepath.Join(dir, "missing"), "", nil, "no such file"},
		{filepath.Join(notLayout, "f"), "", nil, "not a docker archive"},
	}
	for _, tt := range tests {
		got, release, err := LoadImage(tt.src, tt.arch)
		name := filepath.Base(tt.src) + "/" + tt.arch
		if release == nil {
			t.Fatalf("%s: nil release", name)
		}
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err %v, want %q", name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if digest(t, got) != digest(t, tt.want) {
			t.Errorf("%s: got another image", name)
		}
		release()
	}
	// Nothing unpacked is left behind.
	if left, _ := filepath.Glob(filepath.Join(os.TempDir(), "spartan-oci-archive-*")); len(left) > 0 {
		t.Errorf("unpacked oci-archives left: %q", left)
	}
}
