package registry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/spartan-images/spartan/internal/oci"
	"github.com/spartan-images/spartan/internal/sign"
)

// LayoutPrefix marks an OCI layout directory where a registry reference could also be given.
const LayoutPrefix = "oci:"

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

// Open resolves ref: "oci:DIR" for an OCI layout (signatures are stored in it), anything else
// a registry reference (signatures are pushed next to it).
func (c *Client) Open(ctx context.Context, ref string) (*Target, error) {
	if dir, ok := strings.CutPrefix(ref, LayoutPrefix); ok {
		return OpenLayoutTarget(dir)
	}
	r, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	desc, err := c.Get(ctx, r)
	if err != nil {
		return nil, err
	}
	var a oci.Artifact
	if desc.MediaType.IsIndex() {
		a, err = desc.ImageIndex()
	} else {
		a, err = desc.Image()
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ref, err)
	}
	return &Target{Artifact: a, Digest: desc.Digest.String(), Repo: r.Context().Name(), Store: &Store{Repo: r.Context(), Client: c}}, nil
}

// OpenLayoutTarget opens the one artifact of an OCI layout that is not a cosign attachment.
func OpenLayoutTarget(dir string) (*Target, error) {
	st, err := oci.OpenLayout(dir)
	if err != nil {
		return nil, err
	}
	entry, err := layoutSubject(st)
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	a, err := st.Artifact(entry)
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	repo := filepath.Base(filepath.Clean(dir))
	if entry.RefName != "" {
		if r, err := name.ParseReference(entry.RefName); err == nil {
			repo = r.Context().Name()
		}
	}
	return &Target{Artifact: a, Digest: entry.Descriptor.Digest.String(), Repo: repo, Store: st}, nil
}

func layoutSubject(st *oci.LayoutStore) (oci.Entry, error) {
	entries, err := st.Entries()
	if err != nil {
		return oci.Entry{}, err
	}
	var subjects []oci.Entry
	seen := map[string]bool{}
	for _, e := range entries {
		if sign.IsAttachmentTag(e.RefName) || seen[e.Descriptor.Digest.String()] {
			continue
		}
		seen[e.Descriptor.Digest.String()] = true
		subjects = append(subjects, e)
	}
	switch len(subjects) {
	case 0:
		return oci.Entry{}, errors.New("holds no image")
	case 1:
		return subjects[0], nil
	}
	return oci.Entry{}, fmt.Errorf("holds %d different artifacts; Spartan expects one (with its signatures)", len(subjects))
}

// Source is what `spartan push` sends: an image or index and the attachment images stored
// with it.
type Source struct {
	Artifact    oci.Artifact
	Attachments map[string]v1.Image // tag → image
}

// OpenSource reads an OCI layout directory, an oci-archive or a docker-archive. Archives that
// hold a layout are unpacked into a temporary directory, removed by the returned cleanup.
func OpenSource(path string) (*Source, func(), error) {
	nop := func() {}
	path = strings.TrimPrefix(path, LayoutPrefix)
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nop, fmt.Errorf("push source: %w", err)
	}
	if fi.IsDir() {
		s, err := layoutSource(path)
		return s, nop, err
	}
	isLayout, err := oci.ArchiveIsOCI(path)
	if err != nil {
		return nil, nop, fmt.Errorf("push source: %w", err)
	}
	if !isLayout {
		img, err := tarball.ImageFromPath(path, nil)
		if err != nil {
			return nil, nop, fmt.Errorf("read docker-archive %s: %w", path, err)
		}
		return &Source{Artifact: img}, nop, nil
	}
	tmp, cleanup, err := oci.UnpackArchive(path)
	if err != nil {
		return nil, nop, err
	}
	s, err := layoutSource(tmp)
	if err != nil {
		cleanup()
		return nil, nop, fmt.Errorf("oci-archive %s: %w", path, err)
	}
	return s, cleanup, nil
}

func layoutSource(dir string) (*Source, error) {
	t, err := OpenLayoutTarget(dir)
	if err != nil {
		return nil, err
	}
	st := t.Store.(*oci.LayoutStore)
	entries, err := st.Entries()
	if err != nil {
		return nil, err
	}
	s := &Source{Artifact: t.Artifact, Attachments: map[string]v1.Image{}}
	for _, e := range entries {
		if !sign.IsAttachmentTag(e.RefName) {
			continue
		}
		img, err := st.Image(context.Background(), e.RefName)
		if err != nil {
			return nil, err
		}
		s.Attachments[e.RefName] = img
	}
	return s, nil
}
