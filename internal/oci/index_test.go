package oci

import (
	"reflect"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func testImages(t testing.TB) (amd64, arm64 v1.Image) {
	cfg := testConfig()
	amd64 = mustImage(t, testLayers(t), cfg)
	cfg.Arch = "arm64"
	arm64 = mustImage(t, testLayers(t), cfg)
	return amd64, arm64
}

func TestIndex(t *testing.T) {
	amd64, arm64 := testImages(t)
	ann := map[string]string{"org.opencontainers.image.source": "https://example.invalid/spartan"}
	idx, err := Index([]v1.Image{arm64, amd64}, ann)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if im.MediaType != types.OCIImageIndex || im.SchemaVersion != 2 {
		t.Errorf("index media type %q schema %d", im.MediaType, im.SchemaVersion)
	}
	if mt, _ := idx.MediaType(); mt != types.OCIImageIndex {
		t.Errorf("MediaType() = %s", mt)
	}
	if !reflect.DeepEqual(im.Annotations, ann) {
		t.Errorf("annotations = %v, want %v", im.Annotations, ann)
	}
	want := []struct {
		img      v1.Image
		platform v1.Platform
	}{
		{amd64, v1.Platform{OS: "linux", Architecture: "amd64"}},
		{arm64, v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}},
	}
	if len(im.Manifests) != len(want) {
		t.Fatalf("%d manifests, want %d", len(im.Manifests), len(want))
	}
	for i, w := range want {
		d := im.Manifests[i]
		if d.Platform == nil || !reflect.DeepEqual(*d.Platform, w.platform) {
			t.Errorf("manifest %d platform = %+v, want %+v", i, d.Platform, w.platform)
		}
		if d.MediaType != types.OCIManifestSchema1 {
			t.Errorf("manifest %d media type %s", i, d.MediaType)
		}
		if got, want := d.Digest.String(), mustDigest(t, w.img); got != want {
			t.Errorf("manifest %d digest %s, want %s", i, got, want)
		}
		child, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatalf("idx.Image(%s): %v", d.Digest, err)
		}
		if got := mustDigest(t, child); got != d.Digest.String() {
			t.Errorf("child digest %s, want %s", got, d.Digest)
		}
	}

	// The caller's build order does not matter.
	again, err := Index([]v1.Image{amd64, arm64}, ann)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := mustDigest(t, idx), mustDigest(t, again); a != b {
		t.Errorf("index digest depends on input order: %s vs %s", a, b)
	}
}

func TestIndexWithoutAnnotations(t *testing.T) {
	amd64, _ := testImages(t)
	idx, err := Index([]v1.Image{amd64}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := idx.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "annotations") {
		t.Errorf("index without annotations has an annotations field: %s", raw)
	}
}

func TestIndexErrors(t *testing.T) {
	amd64, _ := testImages(t)
	tests := []struct {
		name   string
		images []v1.Image
		want   string
	}{
		{"none", nil, "no images"},
		{"same platform twice", []v1.Image{amd64, amd64}, "two images for platform linux/amd64"},
		{"no platform", []v1.Image{empty.Image}, "image 0: config has no os/architecture"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Index(tt.images, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// described is an image as read from a registry: it carries its descriptor, with the
// manifest's annotations, which go-containerregistry would copy into an index.
type described struct{ v1.Image }

func (d described) Descriptor() (*v1.Descriptor, error) {
	dig, err := d.Digest()
	if err != nil {
		return nil, err
	}
	return &v1.Descriptor{Digest: dig, Annotations: map[string]string{"org.opencontainers.image.title": "from a registry"}}, nil
}

// An index has the same bytes whether its images were just built or read back from a
// registry: `spartan index` stitches per-arch images into the digest `build` makes.
func TestIndexIgnoresWhereImagesCameFrom(t *testing.T) {
	amd64, arm64 := testImages(t)
	built, err := Index([]v1.Image{amd64, arm64}, nil)
	if err != nil {
		t.Fatal(err)
	}
	read, err := Index([]v1.Image{described{amd64}, described{arm64}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Digest(built)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Digest(read)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		m, _ := read.RawManifest()
		t.Errorf("index of read images %s, of built images %s:\n%s", b, a, m)
	}
}
