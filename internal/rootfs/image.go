package rootfs

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/spartan-images/spartan/internal/inflate"
)

// Flatten reads an image's layers (in parallel, from the cache when Options.Cache holds them)
// and stacks them.
func Flatten(img v1.Image, o Options) (*FS, error) {
	if o.Cache != nil && o.CacheKey == "" {
		return nil, fmt.Errorf("flatten: a layer cache needs a CacheKey naming what is read")
	}
	if o.Cache != nil && o.Inspect != nil {
		return nil, fmt.Errorf("flatten: Inspect results cannot be cached")
	}
	ls, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("list layers: %w", err)
	}
	layers := make([]*Layer, len(ls))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, l := range ls {
		g.Go(func() error {
			var err error
			layers[i], err = readImageLayer(l, o)
			if err != nil {
				d, _ := l.Digest()
				return fmt.Errorf("read layer %d (%s): %w", i, d, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return New(layers), nil
}

func readImageLayer(l v1.Layer, o Options) (*Layer, error) {
	d, err := l.Digest()
	if err != nil {
		return nil, fmt.Errorf("layer digest: %w", err)
	}
	size, err := l.Size()
	if err != nil {
		return nil, fmt.Errorf("layer size: %w", err)
	}
	key := "rootfs/v1/" + o.CacheKey + "/" + d.Algorithm + "-" + d.Hex
	var layer *Layer
	if o.Cache != nil {
		if data, ok := o.Cache.GetDerived(key); ok && json.Unmarshal(data, &layer) == nil && layer != nil {
			layer.Info.Digest, layer.Info.Size = d.String(), size
			return layer, nil
		}
		layer = nil
	}
	rc, err := uncompressed(l)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if layer, err = ReadLayer(rc, o); err != nil {
		return nil, err
	}
	layer.Info.Digest, layer.Info.Size = d.String(), size
	if o.Cache != nil {
		// Best effort: a cache that cannot be written only costs the next read time.
		if data, err := json.Marshal(layer); err == nil {
			_ = o.Cache.PutDerived(key, data)
		}
	}
	return layer, nil
}

// uncompressed opens a layer's tar stream with internal/inflate, which inflates about twice as
// fast as the standard library, and inflating is most of a read's time.
func uncompressed(l v1.Layer) (io.ReadCloser, error) {
	mt, _ := l.MediaType()
	if mt != types.OCILayer && mt != types.DockerLayer {
		return l.Uncompressed()
	}
	c, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	zr, err := inflate.NewReader(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{zr, c}, nil
}
