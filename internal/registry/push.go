package registry

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"

	"github.com/spartan-images/spartan/internal/oci"
)

// Push sends an image or index to ref, with its attachments (signatures, attestations) in
// the same repository under their tags. ggcr checks each blob with HEAD first and uploads only
// what is missing; Stats tells how much that was. It returns the pushed artifact's digest.
//
// The tag is written last: the artifact goes up by digest (blobs, then the manifests, which
// the registry accepts only when the blobs they name are there), then the attachments, then
// the per-architecture tags, then ref. A push cut short anywhere — a killed worker, a
// registry that gave up — leaves at most untagged content, never a tag (a plan's key tag
// among them) on an image without its blobs or its signatures; pushing again finishes it.
func (c *Client) Push(ctx context.Context, src *Source, ref name.Reference) (string, Stats, error) {
	blobs := map[v1.Hash]bool{}
	if err := collectBlobs(blobs, src.Artifact); err != nil {
		return "", Stats{}, err
	}
	d, err := oci.Digest(src.Artifact)
	if err != nil {
		return "", Stats{}, err
	}
	repo := ref.Context()
	before := c.Stats()
	if err := c.Write(ctx, repo.Digest(d), src.Artifact); err != nil {
		return "", Stats{}, err
	}
	// ggcr sends nothing of an image or index whose manifest the registry has, not even
	// the blobs it lacks: make sure the registry has everything before anything is tagged.
	p, err := c.Check(ctx, repo.Digest(d))
	if err != nil {
		return "", Stats{}, err
	}
	if !p.Complete() {
		if err := c.repair(ctx, repo, src.Artifact, p); err != nil {
			return "", Stats{}, err
		}
	}
	for _, tag := range slices.Sorted(maps.Keys(src.Attachments)) {
		if err := collectBlobs(blobs, src.Attachments[tag]); err != nil {
			return "", Stats{}, err
		}
		if err := c.Write(ctx, repo.Tag(tag), src.Attachments[tag]); err != nil {
			return "", Stats{}, err
		}
	}
	if tag, ok := ref.(name.Tag); ok {
		if err := c.tagPlatforms(ctx, tag, src.Artifact); err != nil {
			return "", Stats{}, err
		}
		if err := remote.Tag(tag, src.Artifact, c.options(ctx)...); err != nil {
			return "", Stats{}, fmt.Errorf("push %s: %w", tag, err)
		}
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
func (c *Client) tagPlatforms(ctx context.Context, tag name.Tag, a oci.Artifact) error {
	idx, ok := a.(v1.ImageIndex)
	if !ok {
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
		archRef := tag.Context().Tag(tag.TagStr() + "-" + oci.DebianArch(*d.Platform))
		if err := remote.Tag(archRef, img, c.options(ctx)...); err != nil {
			return fmt.Errorf("push %s: %w", archRef, err)
		}
	}
	return nil
}

// collectBlobs adds the config and layer digests of an image, or of every image of an index.
func collectBlobs(into map[v1.Hash]bool, a oci.Artifact) error {
	return eachImage(a, func(_ v1.Hash, img v1.Image) error {
		m, err := img.Manifest()
		if err != nil {
			return err
		}
		into[m.Config.Digest] = true
		for _, l := range m.Layers {
			into[l.Digest] = true
		}
		return nil
	})
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

// repair puts back what a registry lost of an artifact it still has the manifest of (a blob
// deleted by hand or by a broken garbage collection): ggcr skips an artifact whose manifest
// exists without looking at its blobs, so pushing it again would change nothing.
func (c *Client) repair(ctx context.Context, repo name.Repository, a oci.Artifact, p Presence) error {
	images := map[v1.Hash]v1.Image{}
	if err := eachImage(a, func(h v1.Hash, img v1.Image) error { images[h] = img; return nil }); err != nil {
		return err
	}
	for _, h := range p.MissingManifests {
		img, ok := images[h]
		if !ok {
			return fmt.Errorf("push %s: the registry lacks %s, which the artifact does not hold", repo, h)
		}
		if err := c.Write(ctx, repo.Digest(h.String()), img); err != nil {
			return err
		}
	}
	missing := map[v1.Hash]bool{}
	for _, h := range p.MissingBlobs {
		missing[h] = true
	}
	for _, img := range images {
		m, err := img.Manifest()
		if err != nil {
			return err
		}
		if missing[m.Config.Digest] {
			raw, err := img.RawConfigFile()
			if err != nil {
				return err
			}
			if err := remote.WriteLayer(repo, static.NewLayer(raw, m.Config.MediaType), c.options(ctx)...); err != nil {
				return fmt.Errorf("push %s@%s: %w", repo, m.Config.Digest, err)
			}
			delete(missing, m.Config.Digest)
		}
		layers, err := img.Layers()
		if err != nil {
			return err
		}
		for _, l := range layers {
			h, err := l.Digest()
			if err != nil {
				return err
			}
			if !missing[h] {
				continue
			}
			if err := remote.WriteLayer(repo, l, c.options(ctx)...); err != nil {
				return fmt.Errorf("push %s@%s: %w", repo, h, err)
			}
			delete(missing, h)
		}
	}
	return nil
}

// eachImage calls f with each image of a (a itself, or an index's images, recursively).
func eachImage(a oci.Artifact, f func(v1.Hash, v1.Image) error) error {
	switch a := a.(type) {
	case v1.Image:
		h, err := a.Digest()
		if err != nil {
			return err
		}
		return f(h, a)
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
			if err := eachImage(child, f); err != nil {
				return err
			}
		}
	}
	return nil
}
