package archive

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/ulikunitz/xz"

	"github.com/spartan-images/spartan/internal/cache"
	"github.com/spartan-images/spartan/internal/debian/control"
)

// indexExts is the order in which compressed forms of an index are tried: the smallest
// download first. Debian lists the plain file's sum but rarely serves it.
var indexExts = []string{".xz", ".gz", ""}

// index is one Packages file the release vouches for.
type index struct {
	path string // relative to dists/<suite>/, e.g. "main/binary-amd64/Packages.xz"
	ext  string
	hash FileHash
}

// Packages returns the packages of one component and architecture of rel. The index is
// downloaded through the cache by its signed SHA-256 (by-hash when the release offers it), so
// it is verified before it is read, and the parsed result is cached under the same digest:
// a warm run reads no index at all. Debian's binary-<arch> indexes already include the
// Architecture: all packages.
func (c *Client) Packages(ctx context.Context, rel *Release, component, arch string) ([]*Package, error) {
	dl, err := c.downloader()
	if err != nil {
		return nil, err
	}
	if rel == nil {
		return nil, errors.New("packages: no release given")
	}
	if !safeRelPath(component) || !safeRelPath(arch) || strings.Contains(arch, "/") {
		return nil, fmt.Errorf("packages %s: invalid component %q or architecture %q", rel.URL, component, arch)
	}
	idxs := indexesFor(rel, component, arch)
	if len(idxs) == 0 {
		return nil, fmt.Errorf("release %s lists no Packages index for component %q, architecture %q "+
			"(its components: %s; architectures: %s); check the component names and --arch",
			rel.URL, component, arch, strings.Join(rel.Components, " "), strings.Join(rel.Architectures, " "))
	}

	for _, idx := range idxs {
		if pkgs, ok := c.cachedPackages(dl.Cache, rel, idx); ok {
			return pkgs, nil
		}
	}

	var lastErr error
	for i, idx := range idxs {
		path, err := c.fetchIndex(ctx, dl, rel, idx)
		if err != nil {
			// A mirror may omit one compressed form it lists; any other failure (hash mismatch,
			// network) is final, never papered over by another file.
			if cache.IsNotFound(err) && i+1 < len(idxs) {
				c.log().Warn("index missing on mirror; trying another compression", "index", idx.path, "err", err)
				lastErr = err
				continue
			}
			return nil, fmt.Errorf("packages %s/%s: %w", rel.Source.Suite, idx.path, err)
		}
		pkgs, err := readIndexFile(path, idx.ext, rel)
		if err != nil {
			return nil, fmt.Errorf("packages %s/%s (cached as %s): %w", rel.Source.Suite, idx.path, path, err)
		}
		if dl.Cache != nil {
			if err := dl.Cache.PutDerived(derivedKey(idx), encodePackages(pkgs)); err != nil {
				c.log().Warn("cannot cache parsed index; the next run will parse it again", "index", idx.path, "err", err)
			}
		}
		return pkgs, nil
	}
	return nil, fmt.Errorf("packages %s %s/binary-%s: %w", rel.Source.Suite, component, arch, lastErr)
}

func indexesFor(rel *Release, component, arch string) []index {
	var out []index
	for _, ext := range indexExts {
		p := component + "/binary-" + arch + "/Packages" + ext
		if fh, ok := rel.Files[p]; ok {
			out = append(out, index{path: p, ext: ext, hash: fh})
		}
	}
	return out
}

// derivedKey names the parsed form of an index by the index's own digest, so a hit is always
// the parse of exactly the bytes the signed release vouches for.
func derivedKey(idx index) string { return "packages-" + idx.hash.SHA256 }

func (c *Client) cachedPackages(ch *cache.Cache, rel *Release, idx index) ([]*Package, bool) {
	if ch == nil {
		return nil, false
	}
	data, ok := ch.GetDerived(derivedKey(idx))
	if !ok {
		return nil, false
	}
	pkgs, err := decodePackages(data, rel)
	if err != nil {
		// An entry from another Spartan version or a damaged one: parse the index again.
		c.log().Debug("ignoring cached parsed index", "index", idx.path, "err", err)
		return nil, false
	}
	return pkgs, true
}

// fetchIndex downloads an index into the cache. By-hash URLs name the content, so they cannot
// change between reading InRelease and fetching the index while the mirror updates; mirrors
// that lack them get the plain path.
func (c *Client) fetchIndex(ctx context.Context, dl *cache.Downloader, rel *Release, idx index) (string, error) {
	base := strings.TrimRight(rel.Source.URL, "/") + "/dists/" + rel.Source.Suite + "/"
	item := cache.Item{
		Name:   rel.Source.Suite + "/" + idx.path,
		URL:    base + idx.path,
		SHA256: idx.hash.SHA256,
		Size:   idx.hash.Size,
	}
	if rel.AcquireByHash {
		dir := idx.path[:strings.LastIndexByte(idx.path, '/')+1]
		byHash := item
		byHash.URL = base + dir + "by-hash/SHA256/" + idx.hash.SHA256
		path, err := dl.Fetch(ctx, byHash)
		if err == nil || !cache.IsNotFound(err) {
			return path, err
		}
		c.log().Debug("by-hash index missing; using the plain path", "url", byHash.URL)
	}
	return dl.Fetch(ctx, item)
}

// readIndexFile decompresses and parses a verified index file.
func readIndexFile(path, ext string, rel *Release) ([]*Package, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReaderSize(f, 1<<20)
	switch ext {
	case ".xz":
		xr, err := xz.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("xz: %w", err)
		}
		r = xr
	case ".gz":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	return parsePackages(r, rel)
}

// parsePackages reads a Packages index stanza by stanza.
func parsePackages(r io.Reader, rel *Release) ([]*Package, error) {
	cr := control.NewReader(r)
	var out []*Package
	for {
		p, err := cr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		pkg := &Package{Origin: rel}
		if err := fillPackage(pkg, p); err != nil {
			return nil, fmt.Errorf("stanza ending at line %d: %w", cr.Line(), err)
		}
		out = append(out, pkg)
	}
}

// Field numbers for fillPackage's single pass over a stanza.
const (
	fPackage = iota
	fVersion
	fArchitecture
	fSource
	fFilename
	fSHA256
	fSize
	fInstalledSize
	fDepends
	fPreDepends
	fProvides
	fEssential
	fPriority
	fSection
	fMultiArch
	numFields
)

var fieldNames = [numFields]string{"Package", "Version", "Architecture", "Source", "Filename", "SHA256", "Size",
	"Installed-Size", "Depends", "Pre-Depends", "Provides", "Essential", "Priority", "Section", "Multi-Arch"}

// fieldID maps a field name to its number, or -1. Debian writes the canonical spelling; the
// case-insensitive fallback honors deb822 without costing the common case.
func fieldID(name string) int {
	for i, n := range fieldNames {
		if n == name {
			return i
		}
	}
	for i, n := range fieldNames {
		if len(n) == len(name) && strings.EqualFold(n, name) {
			return i
		}
	}
	return -1
}

// fillPackage sets pkg's typed fields from its index stanza, in one pass: it runs for every
// package of every index on every warm run, so it avoids Paragraph.Get's repeated scans. As
// with Get, the first occurrence of a repeated field wins.
func fillPackage(pkg *Package, p control.Paragraph) error {
	var v [numFields]string
	var seen uint32
	for _, f := range p.Fields {
		id := fieldID(f.Name)
		if id < 0 || seen&(1<<id) != 0 {
			continue
		}
		seen |= 1 << id
		v[id] = f.Value
	}
	name := v[fPackage]
	if name == "" {
		return errors.New("no Package field")
	}
	for _, req := range []int{fVersion, fArchitecture, fFilename, fSHA256, fSize} {
		if v[req] == "" {
			return fmt.Errorf("package %s: no %s field", name, fieldNames[req])
		}
	}
	*pkg = Package{
		Name:          name,
		Version:       v[fVersion],
		Architecture:  v[fArchitecture],
		Filename:      v[fFilename],
		SHA256:        strings.ToLower(v[fSHA256]),
		Depends:       v[fDepends],
		PreDepends:    v[fPreDepends],
		Provides:      v[fProvides],
		Essential:     strings.EqualFold(v[fEssential], "yes"),
		Priority:      v[fPriority],
		Section:       v[fSection],
		MultiArch:     v[fMultiArch],
		Stanza:        p,
		Origin:        pkg.Origin,
		Source:        name,
		SourceVersion: v[fVersion],
	}
	if !isSHA256(pkg.SHA256) {
		return fmt.Errorf("package %s: SHA256 %q is not a SHA-256 hex digest", name, shorten(v[fSHA256]))
	}
	// Filename is joined to the mirror URL; a "../" would fetch from outside the archive.
	if !safeFilename(pkg.Filename) {
		return fmt.Errorf("package %s: unsafe Filename %q", name, shorten(pkg.Filename))
	}
	var err error
	if pkg.Size, err = strconv.ParseInt(v[fSize], 10, 64); err != nil || pkg.Size < 0 {
		return fmt.Errorf("package %s: invalid Size %q", name, shorten(v[fSize]))
	}
	if s := v[fInstalledSize]; s != "" {
		if pkg.InstalledSize, err = strconv.ParseInt(s, 10, 64); err != nil || pkg.InstalledSize < 0 {
			return fmt.Errorf("package %s: invalid Installed-Size %q", name, shorten(s))
		}
	}
	// "Source: name" or "Source: name (version)" when the binary's version differs.
	if s := strings.TrimSpace(v[fSource]); s != "" {
		src, ver, hasVer := strings.Cut(s, "(")
		pkg.Source = strings.TrimSpace(src)
		if hasVer {
			ver, ok := strings.CutSuffix(strings.TrimSpace(ver), ")")
			if !ok || strings.TrimSpace(ver) == "" || pkg.Source == "" {
				return fmt.Errorf("package %s: invalid Source %q; want \"name\" or \"name (version)\"", name, shorten(s))
			}
			pkg.SourceVersion = strings.TrimSpace(ver)
		}
	}
	return nil
}

// safeFilename accepts a relative pool path that stays a plain URL path: no "..", no query or
// fragment, no whitespace or control characters. Odd but harmless characters pass, so one
// package with a strange name cannot make a whole index unreadable.
func safeFilename(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#\\") {
		return false
	}
	for _, r := range p {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
