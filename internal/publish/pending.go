package publish

import (
	"context"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/sign"
)

// pending is a sign.Store whose writes stay in memory until they are pushed with the image.
// Reads fall through to the repository, so that signing merges with the signatures and
// attestations others already attached to this digest, as signing in place would.
type pending struct {
	base sign.Store
	put  map[string]v1.Image
}

func (p *pending) Image(ctx context.Context, tag string) (v1.Image, error) {
	if img, ok := p.put[tag]; ok {
		return img, nil
	}
	return p.base.Image(ctx, tag)
}

func (p *pending) PutImage(_ context.Context, tag string, img v1.Image) error {
	if p.put == nil {
		p.put = map[string]v1.Image{}
	}
	p.put[tag] = img
	return nil
}
