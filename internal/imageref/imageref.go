// Package imageref opens the image a command names: an OCI image layout directory (also
// spelled oci:DIR), a docker archive or an oci-archive (what `spartan build --oci/--archive`,
// skopeo, `podman save` and `docker save` write) or a registry reference.
// It is the one place that knows these spellings, so commands that read images (sbom, and
// later verify, scan) accept the same sources.
package imageref

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/spartan-images/spartan/internal/oci"
	"github.com/spartan-images/spartan/internal/registry"
)

// LoadImage opens src, an OCI layout directory, a docker or oci archive file or a registry
// reference, and returns the image for arch (a Debian or OCI architecture name: amd64, arm64,
// armhf, ppc64el…). arch "" accepts the only image there is. The image is read lazily: call
// release when done with it (it removes an unpacked oci-archive); it is never nil.
func LoadImage(src, arch string) (img v1.Image, release func(), err error) {
	nothing := func() {}
	img, release, err = load(src, arch)
	if release == nil {
		release = nothing
	}
	return img, release, err
}

func load(src, arch string) (v1.Image, func(), error) {
	if dir, ok := strings.CutPrefix(src, registry.LayoutPrefix); ok {
		img, err := fromLayout(dir, arch)
		return img, nil, err
	}
	fi, err := os.Stat(src)
	if errors.Is(err, fs.ErrNotExist) && looksLikeReference(src) {
		img, err := fromRegistry(src, arch)
		return img, nil, err
	}
	if err != nil {
		return nil, nil, fmt.Errorf("image %s: %w", src, err)
	}
	if fi.IsDir() {
		img, err := fromLayout(src, arch)
		return img, nil, err
	}
	if isOCI, err := oci.ArchiveIsOCI(src); err == nil && isOCI {
		return fromOCIArchive(src, arch)
	}
	img, err := tarball.ImageFromPath(src, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("image %s: not a docker archive with one image (%w)", src, err)
	}
	if err := checkArch(img, arch, src); err != nil {
		return nil, nil, err
	}
	return img, nil, nil
}

// fromOCIArchive unpacks an oci-archive (what `spartan build --archive` writes for a
// multi-arch build) to a temporary layout, which the returned function removes.
func fromOCIArchive(src, arch string) (v1.Image, func(), error) {
	dir, cleanup, err := oci.UnpackArchive(src)
	if err != nil {
		return nil, nil, fmt.Errorf("image %s: unpack oci-archive: %w", src, err)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("image %s: an oci-archive without an OCI layout: %w", src, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("image %s: %w", src, err)
	}
	// Errors name the archive, not the temporary directory.
	img, err := fromIndex(src, idx, arch)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return img, cleanup, nil
}

func fromLayout(dir, arch string) (v1.Image, error) {
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		return nil, fmt.Errorf("image %s: a directory but not an OCI image layout (no index.json)", dir)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", dir, err)
	}
	return fromIndex(dir, idx, arch)
}

// fromIndex picks arch's image out of an index (a layout's, or a registry's).
func fromIndex(dir string, idx v1.ImageIndex, arch string) (v1.Image, error) {
	var found []candidate
	if err := collect(idx, &found); err != nil {
		return nil, fmt.Errorf("image %s: %w", dir, err)
	}
	var match []candidate
	for _, c := range found {
		if arch == "" || c.arch == oci.Arch(arch) && (ociVariant(arch) == "" || c.variant == ociVariant(arch)) {
			match = append(match, c)
		}
	}
	// An index lists the same image once; a layout may also name it directly by tag.
	match = unique(match)
	switch {
	case len(match) == 1:
		return match[0].img, nil
	case len(found) == 0:
		return nil, fmt.Errorf("image %s: the layout holds no container image", dir)
	case len(match) == 0:
		return nil, fmt.Errorf("image %s: no image for architecture %s; it has %s", dir, arch, archs(found))
	case arch == "":
		return nil, fmt.Errorf("image %s: holds images for %s: choose one with --arch", dir, archs(found))
	}
	return nil, fmt.Errorf("image %s: %d different images for %s; keep one image per layout", dir, len(match), arch)
}

// looksLikeReference tells a registry reference ("host/repo:tag", "repo@sha256:…") from a
// mistyped local path, so that a missing file still gets a "no such file" error.
func looksLikeReference(s string) bool {
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") || strings.HasSuffix(s, ".tar") {
		return false
	}
	_, err := registry.ParseReference(s)
	return err == nil && (strings.Contains(s, "/") || strings.Contains(s, ":") || strings.Contains(s, "@"))
}

// fromRegistry reads an image or index from a registry, with the credentials and plain-HTTP
// rule for loopback registries that push and verify use.
func fromRegistry(ref, arch string) (v1.Image, error) {
	r, err := registry.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	desc, err := registry.New("spartan").Get(context.Background(), r)
	if err != nil {
		return nil, err
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", ref, err)
		}
		return fromIndex(ref, idx, arch)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	if err := checkArch(img, arch, ref); err != nil {
		return nil, err
	}
	return img, nil
}

type candidate struct {
	img           v1.Image
	arch, variant string
	digest        v1.Hash
}

// collect walks an index (and nested indexes) for runnable images. Signatures, attestations
// and other artifacts stored beside the image in the layout have no platform in their config
// and are skipped.
func collect(idx v1.ImageIndex, out *[]candidate) error {
	m, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, d := range m.Manifests {
		switch {
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return err
			}
			if err := collect(child, out); err != nil {
				return err
			}
		case d.MediaType.IsImage():
			img, err := idx.Image(d.Digest)
			if err != nil {
				return err
			}
			mf, err := img.Manifest()
			if err != nil {
				return err
			}
			if mf.Config.MediaType != types.OCIConfigJSON && mf.Config.MediaType != types.DockerConfigJSON {
				continue
			}
			cf, err := img.ConfigFile()
			if err != nil {
				return err
			}
			if cf.OS == "" || cf.Architecture == "" {
				continue
			}
			*out = append(*out, candidate{img: img, arch: cf.Architecture, variant: cf.Variant, digest: d.Digest})
		}
	}
	return nil
}

func unique(cs []candidate) []candidate {
	seen := map[v1.Hash]bool{}
	var out []candidate
	for _, c := range cs {
		if !seen[c.digest] {
			seen[c.digest] = true
			out = append(out, c)
		}
	}
	return out
}

func archs(cs []candidate) string {
	set := map[string]bool{}
	for _, c := range cs {
		set[c.arch] = true
	}
	var l []string
	for a := range set {
		l = append(l, a)
	}
	sort.Strings(l)
	return strings.Join(l, ", ")
}

func checkArch(img v1.Image, arch, src string) error {
	if arch == "" {
		return nil
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("image %s: %w", src, err)
	}
	if cf.Architecture != oci.Arch(arch) {
		return fmt.Errorf("image %s is for %s, not %s", src, cf.Architecture, arch)
	}
	return nil
}

// ociVariant is the variant that tells Debian's two 32-bit arm ports apart.
func ociVariant(a string) string {
	switch a {
	case "armhf":
		return "v7"
	case "armel":
		return "v5"
	}
	return ""
}
