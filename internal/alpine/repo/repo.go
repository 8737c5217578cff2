// Package repo fetches Alpine repositories through Spartan's download cache: indexes are
// verified against trusted keys before they are parsed, and a package enters the cache only
// after its signature, index checksum, per-file checksums and datahash have all been checked,
// so a hostile mirror leaves nothing behind.
package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spartan-images/spartan/internal/alpine/apk"
	"github.com/spartan-images/spartan/internal/alpine/apkindex"
	"github.com/spartan-images/spartan/internal/alpine/keyring"
	"github.com/spartan-images/spartan/internal/cache"
)

// Repository is one Alpine repository: Mirror is the mirror root given by the user (flag,
// environment or spec), Release a branch ("v3.22", "edge"), Name "main" or "community".
type Repository struct {
	Mirror, Release, Name string
	Keys                  keyring.Keyring
}

// URL is the repository's directory for arch, as apk's /etc/apk/repositories line plus arch.
func (r Repository) URL(arch string) string {
	return r.Base() + "/" + arch
}

// Base is the line /etc/apk/repositories holds for it.
func (r Repository) Base() string {
	return strings.TrimRight(r.Mirror, "/") + "/" + r.Release + "/" + r.Name
}

// Client fetches indexes and packages.
type Client struct {
	Downloader *cache.Downloader
	Log        *slog.Logger
}

func (c *Client) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Index is one verified APKINDEX.tar.gz as it was read: what a lock and a provenance record.
type Index struct {
	URL        string // …/<arch>/APKINDEX.tar.gz
	SHA256     string // of the file's bytes, hex
	Repository Repository
	SignedBy   string
}

// Set is what Load read for one architecture.
type Set struct {
	Packages []*apkindex.Package
	Keys     map[string]keyring.Keyring // by package Repository (the arch directory's URL)
	Indexes  []Index
}

// Load verifies and parses every repository's index for arch; each package remembers its
// repository (and so its keys, through Keys).
func (c *Client) Load(ctx context.Context, repos []Repository, arch string) ([]*apkindex.Package, map[string]keyring.Keyring, error) {
	s, err := c.LoadSet(ctx, repos, arch)
	if err != nil {
		return nil, nil, err
	}
	return s.Packages, s.Keys, nil
}

// LoadSet is Load that also says which index files, by digest, the packages came from.
func (c *Client) LoadSet(ctx context.Context, repos []Repository, arch string) (*Set, error) {
	s := &Set{Keys: map[string]keyring.Keyring{}}
	for _, r := range repos {
		if err := check(r); err != nil {
			return nil, err
		}
		url := r.URL(arch) + "/APKINDEX.tar.gz"
		data, err := c.Downloader.Get(ctx, url)
		if err != nil {
			return nil, fmt.Errorf("index of %s %s: %w", r.Release, r.Name, err)
		}
		idx, err := apkindex.Read(bytes.NewReader(data), r.Keys, url)
		if err != nil {
			return nil, err
		}
		for _, p := range idx.Packages {
			p.Repository = r.URL(arch)
		}
		s.Keys[r.URL(arch)] = r.Keys
		sum := sha256.Sum256(data)
		s.Indexes = append(s.Indexes, Index{URL: url, SHA256: hex.EncodeToString(sum[:]), Repository: r, SignedBy: idx.SignedBy})
		c.log().Debug("verified index", "url", url, "packages", len(idx.Packages), "signed_by", idx.SignedBy, "description", idx.Description)
		s.Packages = append(s.Packages, idx.Packages...)
	}
	return s, nil
}

func check(r Repository) error {
	switch {
	case r.Mirror == "":
		return fmt.Errorf("alpine repository %s: no mirror configured: pass --alpine-mirror URL, set SPARTAN_ALPINE_MIRROR or give the repository a mirror in the spec", r.Name)
	case !strings.HasPrefix(r.Mirror, "http://") && !strings.HasPrefix(r.Mirror, "https://"):
		return fmt.Errorf("alpine mirror %q: want an http:// or https:// URL", r.Mirror)
	case !apkindex.ValidName(r.Release) || !apkindex.ValidName(r.Name):
		return fmt.Errorf("alpine repository %q/%q: release and repository must be plain names (v3.22, main)", r.Release, r.Name)
	case len(r.Keys) == 0:
		return fmt.Errorf("alpine repository %s: no trusted keys", r.Name)
	}
	return nil
}

// derivedKey maps a package's index checksum to the SHA-256 of the verified file in the cache.
func derivedKey(p *apkindex.Package) string { return "apk-" + p.Checksum.Hex() }

// Fetch returns the cached path of p's verified .apk, downloading and verifying it first
// when the cache does not hold it. keys are the keys of p's repository.
func (c *Client) Fetch(ctx context.Context, p *apkindex.Package, keys keyring.Keyring) (string, error) {
	path, _, err := c.FetchSum(ctx, p, keys)
	return path, err
}

// FetchSum is Fetch that also returns the file's SHA-256 (hex), which pins it in locks and
// provenance.
func (c *Client) FetchSum(ctx context.Context, p *apkindex.Package, keys keyring.Keyring) (string, string, error) {
	ch := c.Downloader.Cache
	if b, ok := ch.GetDerived(derivedKey(p)); ok && ch.Has(string(b)) {
		return ch.Path(string(b)), string(b), nil
	}
	url := p.FileURL()
	data, err := c.Downloader.Get(ctx, url)
	if err != nil {
		return "", "", fmt.Errorf("fetch %s %s: %w", p.Name, p.Version, err)
	}
	if _, err := apk.Read(bytes.NewReader(data), apk.Options{Keys: keys, Expect: p, What: url}, nil); err != nil {
		return "", "", err
	}
	if p.Size > 0 && int64(len(data)) != p.Size {
		return "", "", fmt.Errorf("%s: %d bytes, the signed index says %d: altered", url, len(data), p.Size)
	}
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	path, err := ch.Put(h, bytes.NewReader(data))
	if err != nil {
		return "", "", fmt.Errorf("cache %s: %w", url, err)
	}
	if err := ch.PutDerived(derivedKey(p), []byte(h)); err != nil {
		c.log().Warn("could not remember the verified package; the next build fetches it again", "pkg", p.Name, "err", err)
	}
	return path, h, nil
}

// Pin is a package file as a lock or a provenance recorded it.
type Pin struct {
	URL    string
	SHA256 string // of the .apk file, hex
	Size   int64  // 0 when not recorded
	// Name, Version and Arch are what its .PKGINFO must state; Checksum, when set, the
	// control segment's hash (the index's C:) it must have.
	Name, Version, Arch string
	Checksum            string
}

// FetchPinned fetches the .apk a pin names without reading any index: the download must
// have the pinned SHA-256 (the cache refuses anything else), its control segment must be
// signed by one of keys and its .PKGINFO must name the pinned package. It returns the cached
// path and the package record as the file states it.
func (c *Client) FetchPinned(ctx context.Context, pin Pin, keys keyring.Keyring) (string, *apkindex.Package, error) {
	path, err := c.Downloader.FetchURL(ctx, pin.URL, pin.SHA256, pin.Size)
	if err != nil {
		return "", nil, fmt.Errorf("fetch %s %s: %w", pin.Name, pin.Version, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", nil, err
	}
	var expect *apkindex.Package
	if pin.Checksum != "" {
		sum, err := apkindex.ParseChecksum(pin.Checksum)
		if err != nil {
			return "", nil, fmt.Errorf("%s %s: recorded %w", pin.Name, pin.Version, err)
		}
		expect = &apkindex.Package{Name: pin.Name, Version: pin.Version, Checksum: sum}
	}
	info, err := apk.Read(f, apk.Options{Keys: keys, Expect: expect, What: pin.URL}, nil)
	if err != nil {
		return "", nil, err
	}
	if info.Name != pin.Name || info.Version != pin.Version || (pin.Arch != "" && info.Arch != pin.Arch) {
		return "", nil, fmt.Errorf("%s: the file is %s %s (%s), the record pins %s %s (%s)", pin.URL, info.Name, info.Version, info.Arch, pin.Name, pin.Version, pin.Arch)
	}
	p := &apkindex.Package{
		Name: info.Name, Version: info.Version, Arch: info.Arch, Checksum: info.Checksum, Size: fi.Size(),
		InstalledSize: info.InstalledSize, Description: info.Description, URL: info.URL, License: info.License,
		Origin: info.Origin, Maintainer: info.Maintainer, BuildTime: info.BuildTime, Commit: info.Commit,
		Depends: info.Depends, Provides: info.Provides, InstallIf: info.InstallIf, Replaces: info.Replaces,
		ProviderPriority: info.ProviderPriority, HasPriority: info.HasPriority,
		Repository: pin.URL[:strings.LastIndex(pin.URL, "/")],
	}
	return path, p, nil
}
