package audit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/spartan-images/spartan/internal/oci"
)

// Kind says where an image came from; some checks only apply to some kinds (signatures live
// next to an image in a registry or layout, never inside an archive).
type Kind string

const (
	KindLayout        Kind = "oci-layout"
	KindDockerArchive Kind = "docker-archive"
	KindOCIArchive    Kind = "oci-archive"
	KindRegistry      Kind = "registry"
	KindMemory        Kind = "in-memory image" // built in this process (compare --baseline)
)

// Target is an image to audit with what is known about where it came from.
type Target struct {
	Name  string // as the user gave it
	Kind  Kind
	Image v1.Image
	// Tag is the reference's tag when the target names one ("latest" triggers DKL-DI-0006).
	Tag string
	// Companions lists the tags or ref names stored next to the image (registry tags of its
	// repository, ref names in an OCI layout), where cosign keeps signatures and attestations.
	// Nil when the kind cannot carry them.
	Companions []string
	// Digests are the manifests a signature may be attached to: the image's and, for
	// multi-arch targets, the index's.
	Digests []string
	cleanup func()
}

// Close removes temporary files the loader made (an unpacked oci-archive).
func (t *Target) Close() {
	if t.cleanup != nil {
		t.cleanup()
		t.cleanup = nil
	}
}

// Load opens an OCI layout directory, a docker-archive or oci-archive file, or a registry
// reference. arch picks the image out of a multi-arch index ("" = amd64).
func Load(ctx context.Context, src, arch string) (*Target, error) {
	if arch == "" {
		arch = "amd64"
	}
	st, err := os.Stat(src)
	switch {
	case err == nil && st.IsDir():
		return loadLayout(src, arch)
	case err == nil:
		return loadArchive(src, arch)
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("open %s: %w", src, err)
	}
	if strings.HasPrefix(src, "/") || strings.HasPrefix(src, "./") || strings.HasSuffix(src, ".tar") {
		return nil, fmt.Errorf("%s: no such file or directory (give an OCI layout directory, an archive or a registry reference)", src)
	}
	return loadRemote(ctx, src, arch)
}

func loadLayout(dir, arch string) (*Target, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: not an OCI image layout (no index.json/oci-layout): %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("%s: read index.json: %w", dir, err)
	}
	img, err := pickImage(idx, arch)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%s: read index.json: %w", dir, err)
	}
	t := &Target{Name: dir, Kind: KindLayout, Image: img, Companions: []string{}}
	for _, d := range m.Manifests {
		if n := d.Annotations["org.opencontainers.image.ref.name"]; n != "" {
			t.Companions = append(t.Companions, n)
		}
		if !isCompanion(d.Annotations["org.opencontainers.image.ref.name"]) {
			t.Digests = append(t.Digests, d.Digest.String())
		}
	}
	return t, nil
}

// pickImage finds the image for arch in an index, descending into nested indexes (a layout's
// index.json usually names one image index for a multi-arch build).
func pickImage(idx v1.ImageIndex, arch string) (v1.Image, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var images []v1.Descriptor
	for _, d := range m.Manifests {
		switch d.MediaType {
		case types.OCIImageIndex, types.DockerManifestList:
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("index %s: %w", d.Digest, err)
			}
			return pickImage(child, arch)
		case types.OCIManifestSchema1, types.DockerManifestSchema2:
			images = append(images, d)
		}
	}
	if len(images) == 0 {
		return nil, errors.New("the index names no image")
	}
	for _, d := range images {
		if d.Platform != nil && d.Platform.Architecture == oci.Arch(arch) {
			return idx.Image(d.Digest)
		}
	}
	// A single image without platform, or the first image when none names this platform: an
	// index of signatures and the image they sign has one untagged-platform image we want.
	for _, d := range images {
		if d.Platform == nil && !isCompanion(d.Annotations["org.opencontainers.image.ref.name"]) {
			return idx.Image(d.Digest)
		}
	}
	return nil, fmt.Errorf("no image for architecture %s in the index", arch)
}

func isCompanion(ref string) bool {
	for _, s := range []string{".sig", ".att", ".sbom"} {
		if strings.HasSuffix(ref, s) && strings.Contains(ref, "sha256-") {
			return true
		}
	}
	return false
}

func loadArchive(file, arch string) (*Target, error) {
	isOCI, err := oci.ArchiveIsOCI(file)
	if err != nil {
		return nil, err
	}
	if !isOCI {
		img, err := tarball.ImageFromPath(file, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: read docker-archive: %w", file, err)
		}
		return &Target{Name: file, Kind: KindDockerArchive, Image: img}, nil
	}
	dir, cleanup, err := oci.UnpackArchive(file)
	if err != nil {
		return nil, fmt.Errorf("%s: unpack oci-archive: %w", file, err)
	}
	t, err := loadLayout(dir, arch)
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	t.Name, t.Kind, t.Companions, t.cleanup = file, KindOCIArchive, nil, cleanup
	return t, nil
}

func loadRemote(ctx context.Context, ref, arch string) (*Target, error) {
	var opts []name.Option
	if host := registryHost(ref); host == "localhost" || host == "127.0.0.1" || host == "[::1]" {
		opts = append(opts, name.Insecure)
	}
	r, err := name.ParseReference(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: not a file, directory or image reference: %w", ref, err)
	}
	ropts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithPlatform(v1.Platform{OS: "linux", Architecture: oci.Arch(arch)}),
	}
	img, err := remote.Image(r, ropts...)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	t := &Target{Name: ref, Kind: KindRegistry, Image: img}
	// A reference without tag or digest means "latest" to every client, so it counts as one.
	if tag, ok := r.(name.Tag); ok {
		t.Tag = tag.TagStr()
	}
	if desc, err := remote.Head(r, ropts...); err == nil {
		t.Digests = append(t.Digests, desc.Digest.String())
	}
	tags, err := remote.List(r.Context(), ropts...)
	if err != nil {
		// Some registries refuse listing; the signature check then can't tell and says so.
		t.Companions = nil
	} else {
		t.Companions = tags
	}
	return t, nil
}

func registryHost(ref string) string {
	host, _, ok := strings.Cut(ref, "/")
	if !ok {
		return ""
	}
	if h, _, ok := strings.Cut(host, ":"); ok && !strings.HasPrefix(host, "[") {
		return h
	}
	return host
}
