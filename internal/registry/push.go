package registry

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/spartan-images/spartan/internal/oci"
)

// Push sends an image or index to ref, then its attachments (signatures, attestations) to
// the same repository under their tags. ggcr checks each blob with HEAD first and uploads only
// what is missing; Stats tells how much that was. It returns the pushed artifact's digest.
func (c *Client) Push(ctx context.Context, src *Source, ref name.Reference) (string, Stats, error) {
	blobs := map[v1.Hash]bool{}
	if err := collectBlobs(blobs, src.Artifact); err != nil {
		return "", Stats{}, err
	}
	before := c.Stats()
	if err := c.Write(ctx, ref, src.Artifact); err != nil {
		return "", Stats{}, err
	}
	if err := c.tagPlatforms(ctx, ref, src.Artifact); err != nil {
		return "", Stats{}, err
	}
	repo := ref.Context()
	for _, tag := range slices.Sorted(maps.Keys(src.Attachments)) {
		if err := collectBlobs(blobs, src.Attachments[tag]); err != nil {
			return "", Stats{}, err
		}
		if err := c.Write(ctx, repo.Tag(tag), src.Attachments[tag]); err != nil {
			return "", Stats{}, err
		}
	}
	d, err := oci.Digest(src.Artifact)
	if err != nil {
		return "", Stats{}, err
	}
	after := c.Stats()
	st := Stats{
		UploadedBytes: after.UploadedBytes - before.UploadedBytes,
		UploadedBlobs: after.UploadedBlobs - before.UploadedBlobs,
		Manifests:     after.Manifests - before.Manifests,
	}
	// ggcr skips whole images whose manifest the registry already has, without asking about
	// their blobs, so "present" is what was not uploaded rather than what HEAD found.
	st.PresentBlobs = max(0, int64(len(blobs))-st.UploadedBlobs)
	return d, st, nil
}

// tagPlatforms gives each platform image of an index pushed under a tag its own tag,
// <tag>-<debian arch> (python:3.13-arm64): for tools and people that must pin one
// architecture, e.g. a FROM in a build that is not platform-aware. The images are already in
// the repository as the index's children, so only their manifests are sent again.
func (c *Client) tagPlatforms(ctx context.Context, ref name.Reference, a oci.Artifact) error {
	idx, ok := a.(v1.ImageIndex)
	tag, isTag := ref.(name.Tag)
	if !ok || !isTag {
		return nil
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, d := range m.Manifests {
		if d.Platform == nil || !d.MediaType.IsImage() {
			continue
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			return err
		}
		archRef := ref.Context().Tag(tag.TagStr() + "-" + oci.DebianArch(*d.Platform))
		if err := remote.Tag(archRef, img, c.options(ctx)...); err != nil {
			return fmt.Errorf("push %s: %w", archRef, err)
		}
	}
	return nil
}

// collectBlobs adds the config and layer digests of an image, or of every image of an index.
func collectBlobs(into map[v1.Hash]bool, a oci.Artifact) error {
	switch a := a.(type) {
	case v1.ImageIndex:
		m, err := a.IndexManifest()
		if err != nil {
			return err
		}
		for _, d := range m.Manifests {
			var child oci.Artifact
			switch {
			case d.MediaType.IsIndex():
				child, err = a.ImageIndex(d.Digest)
			case d.MediaType.IsImage():
				child, err = a.Image(d.Digest)
			default:
				continue
			}
			if err != nil {
				return err
			}
			if err := collectBlobs(into, child); err != nil {
				return err
			}
		}
	case v1.Image:
		m, err := a.Manifest()
		if err != nil {
			return err
		}
		into[m.Config.Digest] = true
		for _, l := range m.Layers {
			into[l.Digest] = true
		}
	}
	return nil
}

// Write pushes one image or index to ref.
func (c *Client) Write(ctx context.Context, ref name.Reference, a oci.Artifact) error {
	var err error
	switch a := a.(type) {
	case v1.ImageIndex:
		err = remote.WriteIndex(ref, a, c.options(ctx)...)
	case v1.Image:
		err = remote.Write(ref, a, c.options(ctx)...)
	default:
		return fmt.Errorf("push %s: %T is neither an image nor an index", ref, a)
	}
	if err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}

// String summarises a push for people.
func (s Stats) String() string {
	return fmt.Sprintf("uploaded %d bytes in %d blobs (%d already present)", s.UploadedBytes, s.UploadedBlobs, s.PresentBlobs)
}
