// Package imagesource opens what a command names as an image: an OCI image layout directory
// (also spelled oci:DIR), an oci-archive or docker-archive file (what `spartan build
// --oci/--archive`, skopeo, `podman save` and `docker save` write) or a registry reference.
//
// Like go-containerregistry's layout, tarball and remote packages there is one constructor
// per kind of source (Layout, OCIArchive, DockerArchive, Remote) and Open, which tells them
// apart by spelling; all return a Source. A Source is the image or index itself (push and
// sign need the whole index and the attachments stored beside it); Image picks one platform
// image out of it with the one platform rule every command shares: the host's platform
// unless the caller names one. It is the only place that opens an image source, so every
// command accepts the same spellings, uses the same credentials (registry.Keychain) and the
// same plain-HTTP rule for loopback registries.
//
// The package prints nothing: Image returns the platform it picked for the caller to report.
package imagesource

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/oci"
	"github.com/spartan-images/spartan/internal/registry"
	"github.com/spartan-images/spartan/internal/sign"
)

// LayoutPrefix marks an OCI layout directory where a registry reference could also be given.
const LayoutPrefix = "oci:"

// Kind says where an image came from; some uses only apply to some kinds (signatures live
// next to an image in a registry or layout, never inside an archive).
type Kind string

const (
	KindLayout        Kind = "oci-layout"
	KindDockerArchive Kind = "docker-archive"
	KindOCIArchive    Kind = "oci-archive"
	KindRegistry      Kind = "registry"
)

// Source is an opened image source: the image or index it names and where it lives.
type Source struct {
	Name     string       // as the caller gave it
	Kind     Kind         // which constructor opened it
	Artifact oci.Artifact // v1.Image or v1.ImageIndex
	Digest   string       // the artifact's manifest digest ("sha256:…")
	// Repo is the repository the artifact belongs to, the identity written into signatures
	// (docker-reference): the reference's repository, or the layout's ref name.
	Repo string
	// Tag is a registry reference's tag ("" for a digest reference or a file).
	Tag string

	store   sign.Store // where attachments live: the layout, or the registry repository
	layout  *oci.LayoutStore
	client  *registry.Client
	cleanup func()
}

// Option configures Open.
type Option func(*options)

type options struct {
	client *registry.Client
}

// WithClient makes registry sources use c (its user agent, transport and credentials).
// Without it a client with registry.Keychain's credentials is used.
func WithClient(c *registry.Client) Option { return func(o *options) { o.client = c } }

// Open opens src by its spelling: "oci:DIR" or an existing directory is an OCI layout, an
// existing file an oci-archive or docker-archive (told apart by their contents), and
// anything else that parses as an image reference a registry image. ctx bounds registry
// requests, including the lazy reads of layers later. Call Close when done.
func Open(ctx context.Context, src string, opts ...Option) (*Source, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if dir, ok := strings.CutPrefix(src, LayoutPrefix); ok {
		s, err := Layout(dir)
		if s != nil {
			s.Name = src
		}
		return s, err
	}
	fi, err := os.Stat(src)
	switch {
	case errors.Is(err, fs.ErrNotExist) && looksLikeReference(src):
		return Remote(ctx, src, o.client)
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("image %s: no such file or directory: give an OCI layout directory, an oci-archive or docker-archive file, or a registry reference (host/repo:tag)", src)
	case err != nil:
		return nil, fmt.Errorf("image %s: %w", src, err)
	case fi.IsDir():
		return Layout(src)
	}
	if !isTar(src) {
		return nil, fmt.Errorf("image %s: not an image: neither a directory nor a tar archive; give an OCI layout directory, an oci-archive or docker-archive file, or a registry reference", src)
	}
	isOCI, err := oci.ArchiveIsOCI(src)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", src, notAnArchive(err))
	}
	if isOCI {
		return OCIArchive(src)
	}
	return DockerArchive(src)
}

// Local says whether src names something on this machine — oci:DIR, a path spelled as one
// (./x, /x, x.tar), or a file or directory that exists — rather than a registry reference:
// Open's rule, for names that need not exist yet (where to write an image).
func Local(src string) bool {
	if strings.HasPrefix(src, LayoutPrefix) || spelledAsPath(src) {
		return true
	}
	_, err := os.Stat(src)
	return err == nil
}

func spelledAsPath(s string) bool {
	return strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") || strings.HasSuffix(s, ".tar")
}

// looksLikeReference tells a registry reference ("host/repo:tag", "repo@sha256:…") from a
// mistyped local path, so that a missing file still gets a "no such file" error.
func looksLikeReference(s string) bool {
	if spelledAsPath(s) {
		return false
	}
	_, err := registry.ParseReference(s)
	return err == nil && strings.ContainsAny(s, "/:@")
}

// Close removes what opening made (the unpacked copy of an oci-archive). It is safe to call
// more than once.
func (s *Source) Close() {
	if s != nil && s.cleanup != nil {
		s.cleanup()
		s.cleanup = nil
	}
}

// Target is the source as something to sign or verify: the artifact and the store its
// signatures and attestations live in. Only layouts and registry images have one: an archive
// is a copy, and a signature written into its unpacked files would be lost.
func (s *Source) Target() (*registry.Target, error) {
	if s.store == nil || s.Kind == KindOCIArchive {
		return nil, fmt.Errorf("%s is a %s: signatures and attestations live next to an image in a registry or an OCI layout directory; push it or write it with --oci first", s.Name, s.Kind)
	}
	return &registry.Target{Artifact: s.Artifact, Digest: s.Digest, Repo: s.Repo, Store: s.store}, nil
}

// Attachments are the cosign signature and attestation images stored with a layout (or an
// oci-archive of one), by tag (sha256-<hex>.sig/.att): what push sends along. Registry images
// and docker-archives have none to carry.
func (s *Source) Attachments(ctx context.Context) (map[string]v1.Image, error) {
	out := map[string]v1.Image{}
	if s.layout == nil {
		return out, nil
	}
	entries, err := s.layout.Entries()
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", s.Name, err)
	}
	for _, e := range entries {
		if !sign.IsAttachmentTag(e.RefName) {
			continue
		}
		img, err := s.layout.Image(ctx, e.RefName)
		if err != nil {
			return nil, fmt.Errorf("image %s: %s: %w", s.Name, e.RefName, err)
		}
		out[e.RefName] = img
	}
	return out, nil
}

// Tags lists the names stored beside the artifact, where cosign keeps signatures and
// attestations: the tags of a registry repository, the ref names of a layout. It returns
// nil for kinds that cannot carry them (archives), and an error when the registry refuses
// to list.
func (s *Source) Tags(ctx context.Context) ([]string, error) {
	switch s.Kind {
	case KindLayout:
		entries, err := s.layout.Entries()
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", s.Name, err)
		}
		tags := []string{}
		for _, e := range entries {
			if e.RefName != "" {
				tags = append(tags, e.RefName)
			}
		}
		return tags, nil
	case KindRegistry:
		st := s.store.(*registry.Store)
		return s.client.List(ctx, st.Repo)
	}
	return nil, nil
}
