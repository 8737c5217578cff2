package imagesource

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/spartan-images/spartan/internal/oci"
	"github.com/spartan-images/spartan/internal/registry"
)

// Remote opens the image or index ref names in a registry, with c's credentials and
// transport (nil: registry.New's, which finds docker's and podman's logins). Loopback
// registries are spoken to over plain HTTP, as registry.ParseReference decides. Layers are
// fetched lazily, within ctx.
func Remote(ctx context.Context, ref string, c *registry.Client) (*Source, error) {
	if c == nil {
		c = registry.New("spartan")
	}
	r, err := registry.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("image %s: not a file, a directory or an image reference: %w", ref, err)
	}
	desc, err := c.Get(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, explainRemote(err, r))
	}
	var a oci.Artifact
	if desc.MediaType.IsIndex() {
		a, err = desc.ImageIndex()
	} else {
		a, err = desc.Image()
	}
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	s := &Source{Name: ref, Kind: KindRegistry, Artifact: a, Digest: desc.Digest.String(),
		Repo: r.Context().Name(), store: &registry.Store{Repo: r.Context(), Client: c}, client: c}
	// A reference without tag or digest means "latest" to every client, so it counts as one.
	if tag, ok := r.(name.Tag); ok {
		s.Tag = tag.TagStr()
	}
	return s, nil
}

// explainRemote adds what to do to the registry errors people meet most.
func explainRemote(err error, r name.Reference) error {
	host := r.Context().RegistryStr()
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("no such image in %s: check the repository and tag (%w)", host, err)
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%s refused access: log in with `podman login %s` or `docker login %s` (%w)", host, host, host, err)
		}
		return err
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) {
		return fmt.Errorf("registry %s is unreachable: check the host name and port, and that the registry is running (%w)", host, err)
	}
	return err
}
