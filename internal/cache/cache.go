package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Cache is a content-addressed store of files under Dir. The zero value is not
// usable; call New so the directory layout exists.
type Cache struct {
	Dir string
}

// New opens (creating if needed) the cache rooted at dir.
func New(dir string) (*Cache, error) {
	if dir == "" {
		return nil, errors.New("open cache: directory is empty; set --cache-dir or $SPARTAN_CACHE")
	}
	c := &Cache{Dir: filepath.Clean(dir)}
	for _, d := range []string{c.blobDir(), c.derivedDir(), c.tmpDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("open cache %s: %w", c.Dir, err)
		}
	}
	return c, nil
}

// DefaultDir is $SPARTAN_CACHE when set, else spartan under the user's cache
// directory (which honours $XDG_CACHE_HOME on Linux).
func DefaultDir() string {
	if d := os.Getenv("SPARTAN_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "spartan")
	}
	// No home directory (some CI sandboxes): still give a usable answer.
	return filepath.Join(os.TempDir(), "spartan-cache")
}

// Path is where the blob with the given digest lives (whether or not it is
// there). It returns "" for a string that is not a SHA-256 hex digest, so a bad
// digest can never name a path outside the cache.
func (c *Cache) Path(sha256hex string) string {
	h, err := normHex(sha256hex)
	if err != nil {
		return ""
	}
	return filepath.Join(c.blobDir(), h)
}

// Has reports whether the blob is present. It does not re-hash it; see Verify.
func (c *Cache) Has(sha256hex string) bool {
	p := c.Path(sha256hex)
	if p == "" {
		return false
	}
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// hit is the cache-hit test used by the downloader: present and, when size is
// known, of that size. A blob of the wrong size is damaged; it is removed so the
// caller downloads it again.
func (c *Cache) hit(h string, size int64) (string, bool, error) {
	p := filepath.Join(c.blobDir(), h)
	st, err := os.Stat(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("cache %s: %w", p, err)
	case !st.Mode().IsRegular():
		return "", false, fmt.Errorf("cache %s: not a regular file; remove it", p)
	case size > 0 && st.Size() != size:
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", false, fmt.Errorf("cache %s: damaged (%d bytes, want %d) and cannot be removed: %w", p, st.Size(), size, err)
		}
		return "", false, nil
	}
	return p, true, nil
}

// Put stores r's content as the blob sha256hex. The digest is checked while the
// data streams to a temp file; on mismatch or read error nothing is kept and
// the error is returned (a *DigestError for a mismatch, the reader's error
// wrapped otherwise). Storing a blob that already exists replaces it with the
// same bytes, which also repairs a damaged copy.
func (c *Cache) Put(sha256hex string, r io.Reader) (string, error) {
	want, err := normHex(sha256hex)
	if err != nil {
		return "", fmt.Errorf("cache put: %w", err)
	}
	tmp, err := c.createTemp("blob-")
	if err != nil {
		return "", fmt.Errorf("cache put %s: %w", want, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), r)
	if err != nil {
		discard(tmp)
		return "", fmt.Errorf("cache put %s: after %d bytes: %w", want, n, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		discard(tmp)
		return "", &DigestError{Want: want, Got: got, Size: n}
	}
	dest := filepath.Join(c.blobDir(), want)
	if err := c.commit(tmp, dest, true); err != nil {
		return "", fmt.Errorf("cache put %s: %w", want, err)
	}
	return dest, nil
}

// DigestError is a SHA-256 mismatch between what was expected and what arrived.
type DigestError struct {
	Want, Got string
	Size      int64 // bytes hashed
}

func (e *DigestError) Error() string {
	return fmt.Sprintf("sha256 mismatch: expected %s, got %s (%d bytes)", e.Want, e.Got, e.Size)
}

// normHex lower-cases a SHA-256 hex digest and rejects anything else, because
// digests become file names.
func normHex(s string) (string, error) {
	h := strings.ToLower(s)
	if len(h) != 2*sha256.Size {
		return "", fmt.Errorf("invalid sha256 %q: want %d hex digits", s, 2*sha256.Size)
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", fmt.Errorf("invalid sha256 %q: not hex", s)
		}
	}
	return h, nil
}

func (c *Cache) blobDir() string    { return filepath.Join(c.Dir, "blobs", "sha256") }
func (c *Cache) derivedDir() string { return filepath.Join(c.Dir, "derived") }
func (c *Cache) tmpDir() string     { return filepath.Join(c.Dir, "tmp") }
