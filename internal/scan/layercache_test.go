package scan

import (
	"errors"
	"io"
	"reflect"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/spartan-images/spartan/internal/cache"
)

// unreadable is a layer whose bytes are gone: only its digest is known.
type unreadable struct{ v1.Layer }

func (unreadable) Compressed() (io.ReadCloser, error)   { return nil, errors.New("layer bytes gone") }
func (unreadable) Uncompressed() (io.ReadCloser, error) { return nil, errors.New("layer bytes gone") }

// TestLayerCache: a second scan of the same layers reads them from the cache — proven by
// scanning an image whose layer bytes are gone — and gives the same inventory.
func TestLayerCache(t *testing.T) {
	img := buildImage(t).Images[0].Image
	c, err := cache.New(t.TempDir())
	must(t, err)
	first, err := FromImage(img, "t", WithLayerCache(c))
	must(t, err)

	layers, err := img.Layers()
	must(t, err)
	gone := make([]mutate.Addendum, len(layers))
	for i, l := range layers {
		gone[i] = mutate.Addendum{Layer: unreadable{l}}
	}
	hollow, err := mutate.Append(emptyLike(t, img), gone...)
	must(t, err)
	if _, err := FromImage(hollow, "t"); err == nil {
		t.Fatal("the hollow image scanned without the cache: the test proves nothing")
	}
	second, err := FromImage(hollow, "t", WithLayerCache(c))
	must(t, err)
	second.Digest = first.Digest
	if !reflect.DeepEqual(first, second) {
		t.Fatalf("cached scan differs:\n%+v\n%+v", first, second)
	}
}

func emptyLike(t *testing.T, img v1.Image) v1.Image {
	t.Helper()
	cf, err := img.ConfigFile()
	must(t, err)
	cf = cf.DeepCopy()
	cf.RootFS.DiffIDs = nil
	cf.History = nil
	base, err := mutate.ConfigFile(emptyImage(), cf)
	must(t, err)
	return base
}

func emptyImage() v1.Image { return empty.Image }

// BenchmarkFromImage reads an image's inventory with no cache, then with every layer already
// in the layer cache: what `spartan scan --cache` saves on a rescan.
func BenchmarkFromImage(b *testing.B) {
	img := buildImage(b).Images[0].Image
	c, err := cache.New(b.TempDir())
	must(b, err)
	_, err = FromImage(img, "warm-up", WithLayerCache(c))
	must(b, err)
	for _, bc := range []struct {
		name string
		opts []Option
	}{{"uncached", nil}, {"cached", []Option{WithLayerCache(c)}}} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := FromImage(img, "bench", bc.opts...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
