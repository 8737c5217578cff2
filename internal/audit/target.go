package audit

import (
	"context"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/imagesource"
)

// Kind says where an image came from (imagesource's kinds, and KindMemory); some checks only
// apply to some kinds (signatures live next to an image in a registry or layout, never inside
// an archive).
type Kind = imagesource.Kind

// KindMemory is an image built in this process (compare --baseline).
const KindMemory Kind = "in-memory image"

// Target is an image to audit with what is known about where it came from.
type Target struct {
	Name  string // as the user gave it
	Kind  Kind
	Image v1.Image
	// Tag is the reference's tag when the target names one ("latest" triggers DKL-DI-0006).
	Tag string
	// Companions lists the tags or ref names stored next to the image (registry tags of its
	// repository, ref names in an OCI layout), where cosign keeps signatures and attestations.
	// Nil when the kind cannot carry them or the registry refuses to list them.
	Companions []string
	// Digests are the manifests a signature may be attached to besides the image's own: the
	// index's, for a multi-arch source.
	Digests []string
}

// NewTarget is img, taken from src, as an audit target.
func NewTarget(ctx context.Context, src *imagesource.Source, img v1.Image) *Target {
	t := &Target{Name: src.Name, Kind: src.Kind, Image: img, Tag: src.Tag, Digests: []string{src.Digest}}
	// A registry that refuses listing leaves Companions nil: the signature check then says it
	// cannot tell.
	t.Companions, _ = src.Tags(ctx)
	return t
}
