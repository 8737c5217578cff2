package scan

import (
	"encoding/json"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/cache"
)

// Option adjusts how an image is read.
type Option func(*readOptions)

type readOptions struct {
	cache *cache.Cache
}

// WithLayerCache keeps what each layer contributes to a scan (its os-release and dpkg records,
// its whiteouts) in Spartan's cache, under the layer's digest: inflating the layers is nearly
// all of a scan's time, and a layer is immutable, so a layer scanned once — by an earlier scan,
// or another image sharing it — is not inflated again. Works for any image: nothing about the
// layer's content is assumed.
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

// layerCacheKey changes whenever what a layer scan keeps changes (interesting paths, format).
func layerCacheKey(d v1.Hash) string { return "scan-layers/v1/" + d.Algorithm + "-" + d.Hex }

type cachedEntry struct {
	Type byte   `json:"t"`
	Link string `json:"l,omitempty"`
	Body []byte `json:"b,omitempty"`
}

type cachedLayer struct {
	Files    map[string]cachedEntry `json:"files"`
	Deleted  []string               `json:"deleted,omitempty"`
	OpaqueIn []string               `json:"opaque,omitempty"`
}

func (o readOptions) loadLayer(l v1.Layer) (*layerFiles, bool) {
	if o.cache == nil {
		return nil, false
	}
	d, err := l.Digest()
	if err != nil {
		return nil, false
	}
	data, ok := o.cache.GetDerived(layerCacheKey(d))
	if !ok {
		return nil, false
	}
	var c cachedLayer
	if json.Unmarshal(data, &c) != nil {
		return nil, false
	}
	lf := &layerFiles{files: make(map[string]entry, len(c.Files)), deleted: c.Deleted, opaqueIn: c.OpaqueIn}
	for p, e := range c.Files {
		lf.files[p] = entry{typ: e.Type, link: e.Link, body: e.Body}
	}
	return lf, true
}

// storeLayer is best effort: a cache that cannot be written only costs the next scan time.
func (o readOptions) storeLayer(l v1.Layer, lf *layerFiles) {
	if o.cache == nil {
		return
	}
	d, err := l.Digest()
	if err != nil {
		return
	}
	c := cachedLayer{Files: make(map[string]cachedEntry, len(lf.files)), Deleted: lf.deleted, OpaqueIn: lf.opaqueIn}
	for p, e := range lf.files {
		c.Files[p] = cachedEntry{Type: e.typ, Link: e.link, Body: e.body}
	}
	data, err := json.Marshal(c)
	if err != nil {
		return
	}
	_ = o.cache.PutDerived(layerCacheKey(d), data)
}
