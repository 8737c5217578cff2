package registry

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/oci"
	"github.com/spartan-images/spartan/internal/sign"
)

// Target is an artifact to sign or verify and the store its attachments live in.
type Target struct {
	Artifact oci.Artifact // v1.Image or v1.ImageIndex
	Digest   string
	Repo     string // the identity written into signatures (docker-reference)
	Store    sign.Store
}

// Children are the digests of an index's images ("" digests for a single image: none).
func (t *Target) Children() ([]string, error) {
	ii, ok := t.Artifact.(v1.ImageIndex)
	if !ok {
		return nil, nil
	}
	m, err := ii.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("read index %s: %w", t.Digest, err)
	}
	var out []string
	for _, d := range m.Manifests {
		if d.MediaType.IsImage() {
			out = append(out, d.Digest.String())
		}
	}
	return out, nil
}

// Image returns the image with digest d: the target itself or one of its index's images.
func (t *Target) Image(d string) (v1.Image, error) {
	if img, ok := t.Artifact.(v1.Image); ok {
		return img, nil
	}
	h, err := v1.NewHash(d)
	if err != nil {
		return nil, err
	}
	return t.Artifact.(v1.ImageIndex).Image(h)
}

// Source is what `spartan push` sends: an image or index and the attachment images stored
// with it (imagesource opens one from a layout or archive).
type Source struct {
	Artifact    oci.Artifact
	Attachments map[string]v1.Image // tag → image
}
