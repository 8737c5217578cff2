package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Client holds what every registry call needs. The zero value is not usable; use New.
type Client struct {
	Keychain  authn.Keychain
	Transport http.RoundTripper
	UserAgent string
	Jobs      int // parallel blob uploads; ggcr's default when 0
	// Retry is the backoff for requests the registry failed with 408, 429 or 5xx or a broken
	// connection; DefaultRetry when Steps is 0.
	Retry remote.Backoff
	count *counter
}

// New returns a client using docker's and podman's credentials and http.DefaultTransport.
func New(userAgent string) *Client {
	return &Client{Keychain: Keychain(), Transport: http.DefaultTransport, UserAgent: userAgent, count: &counter{}}
}

// Stats reports what this client has uploaded so far.
func (c *Client) Stats() Stats { return c.count.stats() }

func (c *Client) options(ctx context.Context) []remote.Option {
	if c.count == nil {
		c.count = &counter{}
	}
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(c.Keychain),
		remote.WithTransport(&countingTransport{next: next, c: c.count}),
		remote.WithRetryBackoff(c.retry()),
		remote.WithRetryPredicate(retryable),
	}
	if c.UserAgent != "" {
		opts = append(opts, remote.WithUserAgent(c.UserAgent))
	}
	if c.Jobs > 0 {
		opts = append(opts, remote.WithJobs(c.Jobs))
	}
	return opts
}

// ParseReference parses an image reference. Registries on the loopback interface are
// spoken to over plain HTTP: a local test or mirror registry rarely has a certificate, and
// traffic that never leaves the host gains nothing from TLS. Every other host needs HTTPS.
func ParseReference(s string) (name.Reference, error) {
	ref, err := name.ParseReference(s, name.StrictValidation)
	if err != nil {
		// Strict validation refuses the implicit :latest; accept it as users write it.
		if ref, err = name.ParseReference(s); err != nil {
			return nil, fmt.Errorf("image reference %q: %w", s, err)
		}
	}
	if isLoopback(ref.Context().RegistryStr()) {
		return name.ParseReference(s, name.Insecure)
	}
	return ref, nil
}

func isLoopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Get fetches the descriptor of ref (its manifest).
func (c *Client) Get(ctx context.Context, ref name.Reference) (*remote.Descriptor, error) {
	d, err := remote.Get(ref, c.options(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", ref, err)
	}
	return d, nil
}

// List returns the tags of repo.
func (c *Client) List(ctx context.Context, repo name.Repository) ([]string, error) {
	tags, err := remote.List(repo, c.options(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repo, err)
	}
	return tags, nil
}

// Store is a repository seen as a sign.Store: attachments are images tagged in it.
type Store struct {
	Repo   name.Repository
	Client *Client
}

// Image returns the image tagged tag in the repository, or nil when the tag does not exist.
func (s *Store) Image(ctx context.Context, tag string) (v1.Image, error) {
	img, err := remote.Image(s.Repo.Tag(tag), s.Client.options(ctx)...)
	if err != nil {
		if IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get %s:%s: %w", s.Repo, tag, err)
	}
	return img, nil
}

// PutImage pushes img and tags it.
func (s *Store) PutImage(ctx context.Context, tag string, img v1.Image) error {
	if err := remote.Write(s.Repo.Tag(tag), img, s.Client.options(ctx)...); err != nil {
		return fmt.Errorf("push %s:%s: %w", s.Repo, tag, err)
	}
	return nil
}

// IsNotFound reports whether err is a registry's "no such manifest or repository".
func IsNotFound(err error) bool {
	var te *transport.Error
	if !errors.As(err, &te) {
		return false
	}
	if te.StatusCode == http.StatusNotFound {
		return true
	}
	for _, d := range te.Errors {
		if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
			return true
		}
	}
	return false
}

// Digest asks the registry for ref's manifest digest with a HEAD request, downloading
// nothing; ok is false when ref does not exist.
func (c *Client) Digest(ctx context.Context, ref name.Reference) (digest string, ok bool, err error) {
	d, err := remote.Head(ref, c.options(ctx)...)
	if err != nil {
		if IsNotFound(err) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("head %s: %w", ref, err)
	}
	return d.Digest.String(), true, nil
}

// Presence is what a registry holds of a reference.
type Presence struct {
	Digest string // ref's manifest digest; "" when ref does not exist
	// What ref's manifest names that the registry does not hold: an index's image manifests,
	// images' configs and layers.
	MissingManifests, MissingBlobs []v1.Hash
}

// Complete is true when ref exists with everything its manifest names.
func (p Presence) Complete() bool {
	return p.Digest != "" && len(p.MissingManifests) == 0 && len(p.MissingBlobs) == 0
}

// Missing names the first thing missing, for messages.
func (p Presence) Missing() string {
	switch {
	case len(p.MissingManifests) > 0:
		return fmt.Sprintf("manifest %s (and %d more)", p.MissingManifests[0], len(p.MissingManifests)+len(p.MissingBlobs)-1)
	case len(p.MissingBlobs) > 0:
		return fmt.Sprintf("blob %s (and %d more)", p.MissingBlobs[0], len(p.MissingBlobs)-1)
	}
	return "nothing"
}

// Check looks at ref more closely than Digest: its manifest, for an index each image's
// manifest, and every config and layer with a HEAD request each (nothing is downloaded but
// manifests). Spartan's pushes tag last and registries refuse a manifest whose blobs are
// missing, so an incomplete tag means something was deleted behind the registry's back; a
// worker deciding whether its unit is done must not count it as done.
func (c *Client) Check(ctx context.Context, ref name.Reference) (Presence, error) {
	d, err := remote.Get(ref, c.options(ctx)...)
	if err != nil {
		if IsNotFound(err) {
			return Presence{}, nil
		}
		return Presence{}, fmt.Errorf("get %s: %w", ref, err)
	}
	p := Presence{Digest: d.Digest.String()}
	repo := ref.Context()
	var images []v1.Hash
	if d.MediaType.IsIndex() {
		idx, err := d.ImageIndex()
		if err != nil {
			return p, fmt.Errorf("read index %s: %w", ref, err)
		}
		m, err := idx.IndexManifest()
		if err != nil {
			return p, fmt.Errorf("read index %s: %w", ref, err)
		}
		for _, child := range m.Manifests {
			if child.MediaType.IsImage() {
				images = append(images, child.Digest)
			}
		}
	} else {
		images = append(images, d.Digest)
	}
	for _, h := range images {
		img, err := remote.Image(repo.Digest(h.String()), c.options(ctx)...)
		if IsNotFound(err) {
			p.MissingManifests = append(p.MissingManifests, h)
			continue
		}
		if err != nil {
			return p, fmt.Errorf("get %s@%s: %w", repo, h, err)
		}
		m, err := img.Manifest()
		if err != nil {
			return p, fmt.Errorf("read %s@%s: %w", repo, h, err)
		}
		for _, b := range append([]v1.Descriptor{m.Config}, m.Layers...) {
			ok, err := c.blobExists(ctx, repo.Digest(b.Digest.String()))
			if err != nil {
				return p, err
			}
			if !ok {
				p.MissingBlobs = append(p.MissingBlobs, b.Digest)
			}
		}
	}
	return p, nil
}

func (c *Client) blobExists(ctx context.Context, ref name.Digest) (bool, error) {
	l, err := remote.Layer(ref, c.options(ctx)...)
	if err != nil {
		return false, fmt.Errorf("head %s: %w", ref, err)
	}
	e, ok := l.(interface{ Exists() (bool, error) })
	if !ok {
		return false, fmt.Errorf("head %s: this go-containerregistry cannot ask whether a blob exists", ref)
	}
	ok, err = e.Exists()
	if err != nil {
		return false, fmt.Errorf("head %s: %w", ref, err)
	}
	return ok, nil
}
