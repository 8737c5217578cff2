package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/spartan-images/spartan/internal/cache"
)

// Client fetches and verifies repository metadata. InRelease files are always fetched fresh
// (they are what says whether the cache is current); indexes go through the content-addressed
// cache by the SHA-256 the signed release gives them.
type Client struct {
	Downloader *cache.Downloader
	Now        func() time.Time // nil: time.Now; tests pin it to check Valid-Until
	Log        *slog.Logger     // nil: quiet

	writes sync.WaitGroup // parsed indexes being stored in the cache; see Wait
}

// Wait returns once every parsed index Packages handed to the cache is stored (or failed to
// be, which only costs the next run a parse). Packages returns before that so that the
// caller's resolution overlaps the write; call Wait before the process may exit, or the
// next run parses the index again.
func (c *Client) Wait() { c.writes.Wait() }

// clockSkew is how far in the future a release's Date may lie before the host clock is
// suspected; Valid-Until checks are only as good as the clock.
const clockSkew = time.Hour

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (c *Client) downloader() (*cache.Downloader, error) {
	if c == nil || c.Downloader == nil {
		return nil, errors.New("archive client has no downloader; construct it with a cache.Downloader")
	}
	return c.Downloader, nil
}

// Release fetches <URL>/dists/<suite>/InRelease, verifies its OpenPGP signature against
// src.Keyring (DefaultKeyring when nil), and parses the signed text. It refuses a release that
// has expired (Valid-Until) or that names another suite than the one asked for, since a
// validly signed but stale or different release is how mirrors are attacked.
func (c *Client) Release(ctx context.Context, src Source) (*Release, error) {
	dl, err := c.downloader()
	if err != nil {
		return nil, err
	}
	if err := checkSource(src); err != nil {
		return nil, err
	}
	src.URL = strings.TrimRight(src.URL, "/")
	keyring := src.Keyring
	if keyring == nil {
		if keyring, err = DefaultKeyring(); err != nil {
			return nil, err
		}
	}
	url := src.URL + "/dists/" + src.Suite + "/InRelease"
	data, err := dl.Get(ctx, url)
	if cache.IsNotFound(err) {
		return nil, fmt.Errorf("release %s: %w (or the mirror has no suite %q: check the suite name and that the URL is the archive root)",
			src.Suite, err, src.Suite)
	}
	if err != nil {
		return nil, fmt.Errorf("release %s: %w", src.Suite, err)
	}
	now := c.now()
	text, err := verifyInRelease(url, data, keyring, now)
	if err != nil {
		return nil, err
	}
	rel, err := parseRelease(text)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", url, err)
	}
	if src.Suite != rel.Suite && src.Suite != rel.Codename {
		return nil, fmt.Errorf("release %s: asked for suite %q but the signed release is for suite %q (codename %q); "+
			"the mirror served another suite's release, by mistake or as an attack; check the suite name and the mirror",
			url, src.Suite, rel.Suite, rel.Codename)
	}
	if !rel.ValidUntil.IsZero() && now.After(rel.ValidUntil) {
		return nil, fmt.Errorf("release %s expired on %s (Valid-Until; it is now %s): the mirror is stale or replaying an old release; "+
			"retry later or choose another mirror with --mirror, and check the host clock",
			url, rel.ValidUntil.Format(time.RFC1123), now.UTC().Format(time.RFC1123))
	}
	if rel.Date.After(now.Add(clockSkew)) {
		return nil, fmt.Errorf("release %s is dated %s, in the future (it is now %s); check the host clock",
			url, rel.Date.Format(time.RFC1123), now.UTC().Format(time.RFC1123))
	}
	sum := sha256.Sum256(data)
	rel.Source, rel.SHA256, rel.URL = src, hex.EncodeToString(sum[:]), url
	c.log().Debug("verified release", "url", url, "suite", rel.Suite, "codename", rel.Codename,
		"date", rel.Date, "sha256", rel.SHA256)
	return rel, nil
}

// checkSource refuses sources that would build odd URLs: the suite becomes a path.
func checkSource(src Source) error {
	if !strings.HasPrefix(src.URL, "http://") && !strings.HasPrefix(src.URL, "https://") {
		return fmt.Errorf("source %q: mirror URL must start with http:// or https://; pass --mirror URL", src.URL)
	}
	if src.Suite == "" {
		return fmt.Errorf("source %s: no suite given (e.g. trixie)", src.URL)
	}
	if !safeRelPath(src.Suite) {
		return fmt.Errorf("source %s: invalid suite %q", src.URL, src.Suite)
	}
	for _, comp := range src.Components {
		if !safeRelPath(comp) {
			return fmt.Errorf("source %s %s: invalid component %q", src.URL, src.Suite, comp)
		}
	}
	return nil
}

// safeRelPath accepts a relative slash path of plain segments.
func safeRelPath(p string) bool {
	if p == "" || strings.ContainsAny(p, " \t\r\n?#%\\") {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
