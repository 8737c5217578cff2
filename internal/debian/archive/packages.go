package archive

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spartan-images/spartan/internal/cache"
	"github.com/spartan-images/spartan/internal/inflate"
	"github.com/spartan-images/spartan/internal/xz"
)

// indexExts is the order in which compressed forms of an index are tried. gzip comes first:
// trixie's main index is 3.6 MB larger as .gz than as .xz, but decompresses in 0.7 s instead of
// 3.3 s on a 2-core machine, which dominates a cold resolve. Debian lists the plain file's sum
// but rarely serves it.
var indexExts = []string{".gz", ".xz", ""}

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

	sizeHint := rel.Files[component+"/binary-"+arch+"/Packages"].Size
	var lastErr error
	for i, idx := range idxs {
		start := time.Now()
		var pkgs []*Package
		path, err := c.fetchIndex(ctx, dl, rel, idx, func(r io.Reader) (err error) {
			pkgs, err = readIndex(r, idx.ext, rel, sizeHint)
			return err
		})
		switch {
		case err != nil && path != "":
			return nil, fmt.Errorf("index %s/%s (cached as %s): %w", rel.Source.Suite, idx.path, path, err)
		case err != nil:
			// A mirror may omit one compressed form it lists; any other failure (hash mismatch,
			// network) is final, never papered over by another file.
			if cache.IsNotFound(err) && i+1 < len(idxs) {
				c.log().Warn("index missing on mirror; trying another compression", "index", idx.path, "err", err)
				lastErr = err
				continue
			}
			return nil, fmt.Errorf("index %s %s/binary-%s: %w", rel.Source.Suite, component, arch, err)
		}
		c.log().Debug("read index", "suite", rel.Source.Suite, "index", idx.path, "packages", len(pkgs), "elapsed", time.Since(start).Round(time.Millisecond))
		if dl.Cache != nil {
			// Off the critical path: the caller resolves while the parse is stored (Wait).
			c.writes.Go(func() {
				if err := dl.Cache.PutDerived(derivedKey(idx), encodePackages(pkgs)); err != nil {
					c.log().Warn("cannot cache parsed index; the next run will parse it again", "index", idx.path, "err", err)
				}
			})
		}
		return pkgs, nil
	}
	return nil, fmt.Errorf("index %s %s/binary-%s: %w", rel.Source.Suite, component, arch, lastErr)
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

// fetchIndex downloads an index into the cache, handing it to consume as it arrives (see
// cache.Downloader.FetchStream: consume's error comes with the path, a download's without).
// By-hash URLs name the content, so they cannot change between reading InRelease and fetching
// the index while the mirror updates; mirrors that lack them get the plain path.
func (c *Client) fetchIndex(ctx context.Context, dl *cache.Downloader, rel *Release, idx index, consume func(io.Reader) error) (string, error) {
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
		path, err := dl.FetchStream(ctx, byHash, consume)
		if err == nil || path != "" || !cache.IsNotFound(err) {
			return path, err
		}
		c.log().Debug("by-hash index missing; using the plain path", "url", byHash.URL)
	}
	return dl.FetchStream(ctx, item, consume)
}

// maxIndexSize bounds a decompressed index held in memory; trixie's main index is 56 MB.
const maxIndexSize = 1 << 30

// indexPiece is about how much decompressed text the scanner is handed at a time: large enough
// that handing over costs nothing, small enough that scanning runs alongside decompression.
const indexPiece = 1 << 20

// readIndex decompresses an index into memory and scans it. Holding the text lets the scanner
// slice values out of it instead of copying each field, which made reading trixie's main index
// several times cheaper than a streaming paragraph parse. The text is scanned in pieces as it
// is decompressed, on another core, and the decompression itself runs as the index downloads
// (fetchIndex), so reading the index costs about its decompression time. sizeHint is the
// plain index's size as the release lists it (0 when unknown), to allocate once. The result
// is the caller's to trust only once the bytes read are verified.
func readIndex(src io.Reader, ext string, rel *Release, sizeHint int64) ([]*Package, error) {
	var r io.Reader = bufio.NewReaderSize(src, 1<<20)
	switch ext {
	case ".xz":
		xr, err := xz.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("xz: %w", err)
		}
		r = xr
	case ".gz":
		zr, err := inflate.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		r = zr
	}
	pieces := make(chan string, 4)
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		defer close(pieces)
		done <- splitIndex(r, maxIndexSize, indexPiece, pieces, stop)
	}()
	s := newIndexScanner(rel, int(min(max(sizeHint, 0), maxIndexSize)/1024)+1)
	var scanErr error
	for p := range pieces {
		if scanErr == nil {
			if scanErr = s.scan(p); scanErr != nil {
				close(stop) // and drain, so the decompressor ends before the file closes
			}
		}
	}
	splitErr := <-done
	switch {
	case scanErr != nil:
		return nil, scanErr
	case errors.Is(splitErr, errIndexTooLarge):
		return nil, splitErr
	case splitErr != nil:
		return nil, fmt.Errorf("decompress %s: %w", ext, splitErr)
	}
	return s.finish()
}

var (
	errIndexTooLarge = fmt.Errorf("decompressed index is larger than %d MiB; Spartan refuses to hold it in memory", maxIndexSize>>20)
	errScanStopped   = errors.New("scan stopped")
)

// splitIndex reads r to its end and sends its text in pieces, each cut at the last line end
// once size bytes are buffered (the last piece at the end of the text), until limit bytes were
// read or stop closes.
func splitIndex(r io.Reader, limit int64, size int, pieces chan<- string, stop <-chan struct{}) error {
	buf := make([]byte, 0, 2*size)
	lastNL := -1 // offset of the last newline in buf; only new bytes are searched
	var total int64
	send := func(p string) error {
		select {
		case pieces <- p:
			return nil
		case <-stop:
			return errScanStopped
		}
	}
	for {
		if len(buf) == cap(buf) {
			// A line longer than the buffer: grow it (the scanner refuses lines over 16 MiB).
			buf = slices.Grow(buf, len(buf))
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		if j := bytes.LastIndexByte(buf[len(buf):len(buf)+n], '\n'); j >= 0 {
			lastNL = len(buf) + j
		}
		buf = buf[:len(buf)+n]
		if total += int64(n); total > limit {
			return errIndexTooLarge
		}
		if err == io.EOF {
			if len(buf) > 0 {
				return send(string(buf))
			}
			return nil
		}
		if err != nil {
			return err
		}
		if len(buf) >= size && lastNL >= 0 {
			if err := send(string(buf[:lastNL+1])); err != nil {
				return err
			}
			buf = buf[:copy(buf, buf[lastNL+1:])]
			lastNL = -1
		}
	}
}
