package oci

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// AnnotationRefName names an entry of a layout's index.json; podman load and
// skopeo use it as the image name.
const AnnotationRefName = "org.opencontainers.image.ref.name"

// Artifact is what a layout or oci-archive can hold: a v1.Image (one
// platform) or a v1.ImageIndex (multi-arch). Anything else is rejected.
type Artifact interface {
	MediaType() (types.MediaType, error)
	Digest() (v1.Hash, error)
	Size() (int64, error)
	RawManifest() ([]byte, error)
}

// WriteLayout writes a as an OCI image layout at dir. index.json gets one
// entry, annotated with refName (e.g. "spartan/base:latest") unless it is "".
//
// The layout is built in a sibling dir+".tmp-*" and renamed into place, so a
// reader never sees a half-written layout and a failure leaves dir as it was.
// An existing dir is replaced only if it is empty or an OCI layout: pointing
// the output at some other directory by mistake must not delete it.
func WriteLayout(dir string, a Artifact, refName string) error {
	var refs []string
	if refName != "" {
		refs = []string{refName}
	}
	root, err := rootIndex(a, refs)
	if err != nil {
		return fmt.Errorf("write layout %s: %w", dir, err)
	}
	return replaceDir(dir, isLayoutOrEmpty, func(tmp string) error {
		_, err := layout.Write(tmp, root)
		return err
	})
}

func isLayoutOrEmpty(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("write layout %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return nil
	}
	fi, err := os.Lstat(filepath.Join(dir, "oci-layout"))
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !fi.Mode().IsRegular()) {
		return fmt.Errorf("write layout %s: directory exists and is not an OCI layout (no oci-layout file); refusing to replace it: remove it or choose another path", dir)
	}
	if err != nil {
		return fmt.Errorf("write layout %s: %w", dir, err)
	}
	return nil
}

// rootIndex is the index.json of a layout holding a: one entry per ref (all
// pointing at a), or a single unnamed entry when refs is empty.
func rootIndex(a Artifact, refs []string) (v1.ImageIndex, error) {
	switch a.(type) {
	case v1.Image, v1.ImageIndex:
	default:
		return nil, fmt.Errorf("%T is neither an image nor an index", a)
	}
	if len(refs) == 0 {
		return mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: a}), nil
	}
	adds := make([]mutate.IndexAddendum, 0, len(refs))
	seen := map[string]bool{}
	for _, ref := range refs {
		if ref == "" {
			return nil, fmt.Errorf("empty reference name")
		}
		if seen[ref] {
			continue
		}
		seen[ref] = true
		adds = append(adds, mutate.IndexAddendum{
			Add:        a,
			Descriptor: v1.Descriptor{Annotations: map[string]string{AnnotationRefName: ref}},
		})
	}
	return mutate.AppendManifests(empty.Index, adds...), nil
}
