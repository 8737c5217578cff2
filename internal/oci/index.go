package oci

import (
	"fmt"
	"maps"
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Index builds an OCI image index over per-platform images. Each entry's
// platform comes from the image's own config. Entries are sorted by platform
// (os/arch/variant) so that the index digest does not depend on the order in
// which the caller built the images; two images for one platform are an error.
func Index(images []v1.Image, annotations map[string]string) (v1.ImageIndex, error) {
	if len(images) == 0 {
		return nil, fmt.Errorf("build index: no images")
	}
	type entry struct {
		key string
		add mutate.IndexAddendum
	}
	entries := make([]entry, 0, len(images))
	seen := map[string]bool{}
	for i, img := range images {
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("build index: image %d: read config: %w", i, err)
		}
		p := cf.Platform()
		if p == nil || p.OS == "" || p.Architecture == "" {
			return nil, fmt.Errorf("build index: image %d: config has no os/architecture", i)
		}
		key := p.String()
		if seen[key] {
			return nil, fmt.Errorf("build index: two images for platform %s; build each platform once", key)
		}
		seen[key] = true
		entries = append(entries, entry{key: key, add: mutate.IndexAddendum{
			Add:        bareImage{img},
			Descriptor: v1.Descriptor{Platform: p},
		}})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].key < entries[j].key })

	adds := make([]mutate.IndexAddendum, len(entries))
	for i, e := range entries {
		adds[i] = e.add
	}
	idx := mutate.IndexMediaType(mutate.AppendManifests(empty.Index, adds...), types.OCIImageIndex)
	if len(annotations) != 0 {
		annotated, ok := mutate.Annotations(idx, maps.Clone(annotations)).(v1.ImageIndex)
		if !ok {
			return nil, fmt.Errorf("build index: annotating did not return an index (go-containerregistry changed?)")
		}
		idx = annotated
	}
	return idx, nil
}

// bareImage hides the descriptor an image read from a registry carries (with its manifest's
// annotations), which ggcr would copy into the index: an index of the same images has the
// same bytes wherever the images were read from (a build, a layout, a registry).
type bareImage struct{ v1.Image }
