package scan

import (
	"github.com/spartan-images/spartan/internal/cache"
)

// Option adjusts how an image is read.
type Option func(*readOptions)

type readOptions struct {
	cache *cache.Cache
}

// WithLayerCache keeps what each layer contributes to a scan (its os-release and package
// database files, its whiteouts) in Spartan's cache, under the layer's digest: inflating the
// layers is nearly all of a scan's time, and a layer is immutable, so a layer scanned once —
// by an earlier scan, or another image sharing it — is not inflated again (internal/rootfs
// keeps the per-layer readings; internal/inventory names what is read).
func WithLayerCache(c *cache.Cache) Option {
	return func(o *readOptions) { o.cache = c }
}

func optionsOf(opts []Option) readOptions {
	var o readOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}
