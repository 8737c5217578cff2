package oci

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
)

// LayoutStore reads and writes tagged images in an existing OCI layout: the tag is the entry's
// org.opencontainers.image.ref.name. Signatures and attestations live there under cosign's
// tag names (sha256-<hex>.sig / .att), the same names they get in a registry, so a layout
// can be signed offline and pushed later with its attachments.
type LayoutStore struct {
	Path layout.Path
}

// OpenLayout opens the OCI layout at dir.
func OpenLayout(dir string) (*LayoutStore, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open OCI layout %s: not an OCI layout (no index.json)", dir)
		}
		return nil, fmt.Errorf("open OCI layout %s: %w", dir, err)
	}
	return &LayoutStore{Path: p}, nil
}

// Entry is one manifest listed in the layout's index.json.
type Entry struct {
	RefName    string // "" when unnamed
	Descriptor v1.Descriptor
}

// Entries lists index.json in order.
func (s *LayoutStore) Entries() ([]Entry, error) {
	ii, err := s.Path.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("read %s/index.json: %w", s.Path, err)
	}
	m, err := ii.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("read %s/index.json: %w", s.Path, err)
	}
	out := make([]Entry, len(m.Manifests))
	for i, d := range m.Manifests {
		out[i] = Entry{RefName: d.Annotations[AnnotationRefName], Descriptor: d}
	}
	return out, nil
}

// Artifact returns the image or index an entry points at.
func (s *LayoutStore) Artifact(e Entry) (Artifact, error) {
	ii, err := s.Path.ImageIndex()
	if err != nil {
		return nil, err
	}
	if e.Descriptor.MediaType.IsIndex() {
		return ii.ImageIndex(e.Descriptor.Digest)
	}
	if e.Descriptor.MediaType.IsImage() {
		return ii.Image(e.Descriptor.Digest)
	}
	return nil, fmt.Errorf("%s: %s is neither an image nor an index", e.Descriptor.Digest, e.Descriptor.MediaType)
}

// Image returns the image tagged tag, or nil when no entry has that name.
func (s *LayoutStore) Image(_ context.Context, tag string) (v1.Image, error) {
	entries, err := s.Entries()
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.RefName != tag {
			continue
		}
		if !e.Descriptor.MediaType.IsImage() {
			return nil, fmt.Errorf("%s in %s is a %s, not an image", tag, s.Path, e.Descriptor.MediaType)
		}
		ii, err := s.Path.ImageIndex()
		if err != nil {
			return nil, err
		}
		return ii.Image(e.Descriptor.Digest)
	}
	return nil, nil
}

// PutImage writes img's blobs and points tag at it, replacing the entry of that name.
func (s *LayoutStore) PutImage(_ context.Context, tag string, img v1.Image) error {
	err := s.Path.ReplaceImage(img, match.Annotation(AnnotationRefName, tag),
		layout.WithAnnotations(map[string]string{AnnotationRefName: tag}))
	if err != nil {
		return fmt.Errorf("write %s to %s: %w", tag, s.Path, err)
	}
	return nil
}
