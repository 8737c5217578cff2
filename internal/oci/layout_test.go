package oci

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// readLayout opens dir with go-containerregistry and returns its index.json.
func readLayout(t *testing.T, dir string) (v1.ImageIndex, *v1.IndexManifest) {
	t.Helper()
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatalf("layout.FromPath(%s): %v", dir, err)
	}
	ii, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := ii.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	return ii, im
}

// sameBlobs checks that every layer read back has the digest and bytes of
// the original.
func sameBlobs(t *testing.T, got, want v1.Image) {
	t.Helper()
	if g, w := mustDigest(t, got), mustDigest(t, want); g != w {
		t.Fatalf("image digest %s, want %s", g, w)
	}
	gl, err := got.Layers()
	if err != nil {
		t.Fatal(err)
	}
	wl, err := want.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(gl) != len(wl) {
		t.Fatalf("%d layers, want %d", len(gl), len(wl))
	}
	for i := range gl {
		gd, _ := gl[i].Digest()
		wd, _ := wl[i].Digest()
		gdiff, err := gl[i].DiffID()
		if err != nil {
			t.Fatal(err)
		}
		wdiff, _ := wl[i].DiffID()
		if gd != wd || gdiff != wdiff {
			t.Errorf("layer %d: digest %s diffid %s, want %s %s", i, gd, gdiff, wd, wdiff)
		}
		if !bytes.Equal(readAll(t, gl[i].Compressed), readAll(t, wl[i].Compressed)) {
			t.Errorf("layer %d blob differs", i)
		}
	}
	gc, _ := got.RawConfigFile()
	wc, _ := want.RawConfigFile()
	if !bytes.Equal(gc, wc) {
		t.Errorf("config differs:\n%s\n%s", gc, wc)
	}
}

func readAll(t *testing.T, open func() (io.ReadCloser, error)) []byte {
	t.Helper()
	rc, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriteLayoutImage(t *testing.T) {
	img := mustImage(t, testLayers(t), testConfig())
	dir := filepath.Join(t.TempDir(), "out")
	if err := WriteLayout(dir, img, "spartan/base:latest"); err != nil {
		t.Fatal(err)
	}
	ii, im := readLayout(t, dir)
	if im.MediaType != types.OCIImageIndex {
		t.Errorf("index.json media type %q", im.MediaType)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("index.json has %d entries, want 1", len(im.Manifests))
	}
	d := im.Manifests[0]
	if got := d.Annotations[AnnotationRefName]; got != "spartan/base:latest" {
		t.Errorf("ref.name = %q", got)
	}
	if d.MediaType != types.OCIManifestSchema1 || d.Digest.String() != mustDigest(t, img) {
		t.Errorf("entry = %s %s, want %s", d.MediaType, d.Digest, mustDigest(t, img))
	}
	got, err := ii.Image(d.Digest)
	if err != nil {
		t.Fatal(err)
	}
	sameBlobs(t, got, img)

	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("layout dir mode %v, want 0755", fi.Mode().Perm())
	}
}

func TestWriteLayoutIndex(t *testing.T) {
	amd64, arm64 := testImages(t)
	idx, err := Index([]v1.Image{amd64, arm64}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "multi")
	if err := WriteLayout(dir, idx, ""); err != nil {
		t.Fatal(err)
	}
	root, im := readLayout(t, dir)
	if len(im.Manifests) != 1 {
		t.Fatalf("index.json has %d entries, want 1", len(im.Manifests))
	}
	d := im.Manifests[0]
	if d.Annotations != nil {
		t.Errorf("unnamed entry has annotations %v", d.Annotations)
	}
	if d.MediaType != types.OCIImageIndex || d.Digest.String() != mustDigest(t, idx) {
		t.Fatalf("entry = %s %s, want index %s", d.MediaType, d.Digest, mustDigest(t, idx))
	}
	child, err := root.ImageIndex(d.Digest)
	if err != nil {
		t.Fatal(err)
	}
	cm, err := child.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var platforms []string
	for _, m := range cm.Manifests {
		platforms = append(platforms, m.Platform.String())
		img, err := child.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		want := amd64
		if m.Platform.Architecture == "arm64" {
			want = arm64
		}
		sameBlobs(t, img, want)
	}
	if want := []string{"linux/amd64", "linux/arm64/v8"}; !reflect.DeepEqual(platforms, want) {
		t.Errorf("platforms = %v, want %v", platforms, want)
	}
}

func TestWriteLayoutReplaces(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	first := mustImage(t, testLayers(t), testConfig())
	if err := WriteLayout(dir, first, "a:1"); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Cmd = []string{"--version"}
	second := mustImage(t, testLayers(t), cfg)
	if err := WriteLayout(dir, second, "a:2"); err != nil {
		t.Fatal(err)
	}
	_, im := readLayout(t, dir)
	if len(im.Manifests) != 1 || im.Manifests[0].Digest.String() != mustDigest(t, second) || im.Manifests[0].Annotations[AnnotationRefName] != "a:2" {
		t.Errorf("index.json after replace = %+v", im.Manifests)
	}
	// The old manifest's blob is gone: the layout was replaced, not merged.
	h, _ := first.Digest()
	if _, err := os.Stat(filepath.Join(dir, "blobs", "sha256", h.Hex)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old manifest blob still present (err %v)", err)
	}
	if got := dirNames(t, parent); !reflect.DeepEqual(got, []string{"out"}) {
		t.Errorf("parent holds %v, want only out", got)
	}

	// An empty directory is fine to fill.
	empty := filepath.Join(parent, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteLayout(empty, first, ""); err != nil {
		t.Fatal(err)
	}
	readLayout(t, empty)
}

// failingLayerImage is an image whose second layer cannot be read, to make a
// write fail half-way.
type failingLayerImage struct{ v1.Image }

func (f failingLayerImage) Layers() ([]v1.Layer, error) {
	ls, err := f.Image.Layers()
	if err != nil {
		return nil, err
	}
	ls[1] = failingLayer{ls[1]}
	return ls, nil
}

type failingLayer struct{ v1.Layer }

func (failingLayer) Compressed() (io.ReadCloser, error) {
	return nil, errors.New("disk on fire")
}

func TestWriteLayoutFailureLeavesNothing(t *testing.T) {
	img := mustImage(t, testLayers(t), testConfig())
	broken := failingLayerImage{img}

	t.Run("missing parent", func(t *testing.T) {
		root := t.TempDir()
		err := WriteLayout(filepath.Join(root, "no", "such", "out"), img, "")
		if err == nil {
			t.Fatal("no error")
		}
		if got := dirNames(t, root); len(got) != 0 {
			t.Errorf("left %v behind", got)
		}
	})

	t.Run("failed build keeps the old layout", func(t *testing.T) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "out")
		if err := WriteLayout(dir, img, "a:1"); err != nil {
			t.Fatal(err)
		}
		err := WriteLayout(dir, broken, "a:2")
		if err == nil || !strings.Contains(err.Error(), "disk on fire") {
			t.Fatalf("err = %v, want the layer error", err)
		}
		if got := dirNames(t, parent); !reflect.DeepEqual(got, []string{"out"}) {
			t.Errorf("parent holds %v, want only out", got)
		}
		ii, im := readLayout(t, dir)
		if len(im.Manifests) != 1 || im.Manifests[0].Annotations[AnnotationRefName] != "a:1" {
			t.Fatalf("old layout changed: %+v", im.Manifests)
		}
		got, err := ii.Image(im.Manifests[0].Digest)
		if err != nil {
			t.Fatal(err)
		}
		sameBlobs(t, got, img)
	})

	t.Run("failed build of a new layout", func(t *testing.T) {
		parent := t.TempDir()
		if err := WriteLayout(filepath.Join(parent, "out"), broken, ""); err == nil || !strings.Contains(err.Error(), "disk on fire") {
			t.Fatalf("err = %v, want the layer error", err)
		}
		if got := dirNames(t, parent); len(got) != 0 {
			t.Errorf("left %v behind", got)
		}
	})
}

func TestWriteLayoutRefusesToClobber(t *testing.T) {
	img := mustImage(t, testLayers(t), testConfig())
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
		want  string
	}{
		{"directory with other files", func(t *testing.T, p string) { writeFile(t, filepath.Join(p, "thesis.tex"), "precious") }, "not an OCI layout"},
		{"oci-layout is a directory", func(t *testing.T, p string) {
			if err := os.MkdirAll(filepath.Join(p, "oci-layout"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, "not an OCI layout"},
		{"regular file", func(t *testing.T, p string) { writeFile(t, p, "precious") }, "not a directory"},
		{"symlink", func(t *testing.T, p string) {
			if err := os.Symlink(t.TempDir(), p); err != nil {
				t.Fatal(err)
			}
		}, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			p := filepath.Join(parent, "out")
			tt.setup(t, p)
			before := dirNames(t, parent)
			err := WriteLayout(p, img, "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if got := dirNames(t, parent); !reflect.DeepEqual(got, before) {
				t.Errorf("parent holds %v, want %v", got, before)
			}
		})
	}
}

func TestWriteLayoutRejectsOtherArtifacts(t *testing.T) {
	img := mustImage(t, testLayers(t), testConfig())
	layers, _ := img.Layers()
	err := WriteLayout(filepath.Join(t.TempDir(), "out"), notAnArtifact{layers[0]}, "")
	if err == nil || !strings.Contains(err.Error(), "neither an image nor an index") {
		t.Fatalf("err = %v", err)
	}
}

type notAnArtifact struct{ v1.Layer }

func (notAnArtifact) RawManifest() ([]byte, error) { return []byte("{}"), nil }

func TestWriteArchiveRefusesDevice(t *testing.T) {
	img := mustImage(t, testLayers(t), testConfig())
	if err := WriteArchive("/dev/null", img, []string{"example/x:1"}); err == nil {
		t.Fatal("writing an archive over /dev/null succeeded")
	}
	if fi, err := os.Stat("/dev/null"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is no longer a character device: %v %v", fi.Mode(), err)
	}
}
