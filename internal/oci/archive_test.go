package oci

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestWriteArchive(t *testing.T) {
	img := mustImage(t, testLayers(t), testConfig())
	dir := t.TempDir()
	path := filepath.Join(dir, "img.tar")
	tags := []string{"spartan/base:1", "spartan/base", "registry.example:5000/x/y:z"}
	if err := WriteArchive(path, img, tags); err != nil {
		t.Fatal(err)
	}
	if got := dirNames(t, dir); !reflect.DeepEqual(got, []string{"img.tar"}) {
		t.Errorf("dir holds %v", got)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("archive mode %v, want 0644", fi.Mode().Perm())
	}

	// manifest.json: one image, all tags (":latest" made explicit), sorted.
	files := untar(t, path)
	var m tarball.Manifest
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	wantTags := []string{"registry.example:5000/x/y:z", "spartan/base:1", "spartan/base:latest"}
	if len(m) != 1 || !reflect.DeepEqual(m[0].RepoTags, wantTags) {
		t.Fatalf("manifest.json = %+v, want RepoTags %v", m, wantTags)
	}

	for _, tag := range tags {
		ref, err := name.NewTag(tag)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tarball.ImageFromPath(path, &ref)
		if err != nil {
			t.Fatalf("tarball.ImageFromPath(%s): %v", tag, err)
		}
		// A docker-archive carries no manifest, so the loader makes its own;
		// config and layer blobs must be ours, byte for byte.
		gotCfg, _ := got.ConfigName()
		wantCfg, _ := img.ConfigName()
		if gotCfg != wantCfg {
			t.Errorf("%s: config %s, want %s", tag, gotCfg, wantCfg)
		}
		gl, err := got.Layers()
		if err != nil {
			t.Fatal(err)
		}
		wl, _ := img.Layers()
		if len(gl) != len(wl) {
			t.Fatalf("%s: %d layers, want %d", tag, len(gl), len(wl))
		}
		for i := range gl {
			gd, err := gl[i].Digest()
			if err != nil {
				t.Fatal(err)
			}
			wd, _ := wl[i].Digest()
			gdiff, err := gl[i].DiffID()
			if err != nil {
				t.Fatal(err)
			}
			wdiff, _ := wl[i].DiffID()
			if gd != wd || gdiff != wdiff {
				t.Errorf("%s layer %d: %s/%s, want %s/%s", tag, i, gd, gdiff, wd, wdiff)
			}
		}
	}

	// Byte-for-byte reproducible, whatever the tag order.
	again := filepath.Join(dir, "again.tar")
	if err := WriteArchive(again, img, []string{tags[2], tags[0], tags[1]}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, path), readFile(t, again)) {
		t.Error("archive bytes depend on tag order")
	}
}

func TestWriteArchiveUntagged(t *testing.T) {
	img := mustImage(t, testLayers(t), testConfig())
	path := filepath.Join(t.TempDir(), "img.tar")
	if err := WriteArchive(path, img, nil); err != nil {
		t.Fatal(err)
	}
	got, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	gotCfg, _ := got.ConfigName()
	wantCfg, _ := img.ConfigName()
	if gotCfg != wantCfg {
		t.Errorf("config %s, want %s", gotCfg, wantCfg)
	}
}

func TestWriteOCIArchive(t *testing.T) {
	amd64, arm64 := testImages(t)
	idx, err := Index([]v1.Image{amd64, arm64}, map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		a    Artifact
		tags []string
	}{
		{"index", idx, []string{"localhost/spartan/base:1"}},
		{"image", amd64, []string{"localhost/spartan/base:1"}},
		{"image two tags", amd64, []string{"a:1", "a:2"}},
		{"index untagged", idx, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "img.tar")
			if err := WriteOCIArchive(path, tt.a, tt.tags); err != nil {
				t.Fatal(err)
			}
			if got := dirNames(t, dir); !reflect.DeepEqual(got, []string{"img.tar"}) {
				t.Errorf("dir holds %v", got)
			}

			names := tarNames(t, path)
			if len(names) < 4 || !reflect.DeepEqual(names[:4], []string{"oci-layout", "index.json", "blobs/", "blobs/sha256/"}) {
				t.Errorf("tar starts with %v", names)
			}

			layoutDir := filepath.Join(dir, "layout")
			extract(t, path, layoutDir)
			root, im := readLayout(t, layoutDir)
			wantEntries := max(len(tt.tags), 1)
			if len(im.Manifests) != wantEntries {
				t.Fatalf("index.json has %d entries, want %d", len(im.Manifests), wantEntries)
			}
			for i, d := range im.Manifests {
				if d.Digest.String() != mustDigest(t, tt.a) {
					t.Errorf("entry %d digest %s, want %s", i, d.Digest, mustDigest(t, tt.a))
				}
				if len(tt.tags) > 0 && d.Annotations[AnnotationRefName] != tt.tags[i] {
					t.Errorf("entry %d ref.name %q, want %q", i, d.Annotations[AnnotationRefName], tt.tags[i])
				}
			}
			d := im.Manifests[0]
			switch d.MediaType {
			case types.OCIImageIndex:
				child, err := root.ImageIndex(d.Digest)
				if err != nil {
					t.Fatal(err)
				}
				cm, err := child.IndexManifest()
				if err != nil {
					t.Fatal(err)
				}
				if len(cm.Manifests) != 2 {
					t.Fatalf("%d platforms, want 2", len(cm.Manifests))
				}
				for _, m := range cm.Manifests {
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
			case types.OCIManifestSchema1:
				img, err := root.Image(d.Digest)
				if err != nil {
					t.Fatal(err)
				}
				sameBlobs(t, img, amd64)
			default:
				t.Fatalf("entry media type %s", d.MediaType)
			}

			again := filepath.Join(dir, "again.tar")
			if err := WriteOCIArchive(again, tt.a, tt.tags); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(readFile(t, path), readFile(t, again)) {
				t.Error("oci-archive is not byte-for-byte reproducible")
			}
		})
	}
}

func TestWriteArchivesFailureLeavesNothing(t *testing.T) {
	img := mustImage(t, testLayers(t), testConfig())
	broken := failingLayerImage{img}
	writers := []struct {
		name  string
		write func(path string, img v1.Image) error
	}{
		{"docker", func(p string, img v1.Image) error { return WriteArchive(p, img, []string{"a:1"}) }},
		{"oci", func(p string, img v1.Image) error { return WriteOCIArchive(p, img, []string{"a:1"}) }},
	}
	for _, w := range writers {
		t.Run(w.name+" missing parent", func(t *testing.T) {
			root := t.TempDir()
			if err := w.write(filepath.Join(root, "no", "img.tar"), img); err == nil {
				t.Fatal("no error")
			}
			if got := dirNames(t, root); len(got) != 0 {
				t.Errorf("left %v behind", got)
			}
		})
		t.Run(w.name+" failing layer keeps the old file", func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "img.tar")
			writeFile(t, path, "old")
			err := w.write(path, broken)
			if err == nil || !strings.Contains(err.Error(), "disk on fire") {
				t.Fatalf("err = %v, want the layer error", err)
			}
			if got := dirNames(t, dir); !reflect.DeepEqual(got, []string{"img.tar"}) {
				t.Errorf("dir holds %v", got)
			}
			if got := string(readFile(t, path)); got != "old" {
				t.Errorf("old file now holds %q", got)
			}
		})
		t.Run(w.name+" path is a directory", func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "img.tar"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := w.write(filepath.Join(dir, "img.tar"), img); err == nil {
				t.Fatal("no error")
			}
			if got := dirNames(t, dir); !reflect.DeepEqual(got, []string{"img.tar"}) {
				t.Errorf("dir holds %v", got)
			}
		})
	}
}

func TestWriteArchiveBadTag(t *testing.T) {
	img := mustImage(t, testLayers(t), testConfig())
	dir := t.TempDir()
	err := WriteArchive(filepath.Join(dir, "img.tar"), img, []string{"Not A Tag!"})
	if err == nil || !strings.Contains(err.Error(), `tag "Not A Tag!"`) {
		t.Fatalf("err = %v", err)
	}
	if err := WriteOCIArchive(filepath.Join(dir, "img.tar"), img, []string{""}); err == nil {
		t.Fatal("empty tag accepted")
	}
	if got := dirNames(t, dir); len(got) != 0 {
		t.Errorf("left %v behind", got)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func forEachTarEntry(t *testing.T, path string, fn func(hdr *tar.Header, body []byte)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if hdr.ModTime.Unix() != 0 || hdr.Uid != 0 || hdr.Gid != 0 || hdr.Uname != "" || hdr.Gname != "" {
			t.Errorf("%s: header not normalised: %+v", hdr.Name, hdr)
		}
		fn(hdr, body)
	}
}

func untar(t *testing.T, path string) map[string][]byte {
	files := map[string][]byte{}
	forEachTarEntry(t, path, func(hdr *tar.Header, body []byte) { files[hdr.Name] = body })
	return files
}

func tarNames(t *testing.T, path string) []string {
	var names []string
	forEachTarEntry(t, path, func(hdr *tar.Header, _ []byte) { names = append(names, hdr.Name) })
	return names
}

func extract(t *testing.T, path, dir string) {
	forEachTarEntry(t, path, func(hdr *tar.Header, body []byte) {
		target := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		if hdr.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
			return
		}
		writeFile(t, target, string(body))
	})
}
