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
	count     *counter
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
		if isNotFound(err) {
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

func isNotFound(err error) bool {
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
		if isNotFound(err) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("head %s: %w", ref, err)
	}
	return d.Digest.String(), true, nil
}
