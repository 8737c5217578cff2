package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// derivedMagic starts every derived entry. The header carries the digest and
// length of the payload: derived data (parsed package indexes) feeds decisions
// about what goes into an image, so a damaged entry must read as a miss, not as
// a shorter package list.
const derivedMagic = "spartan-derived-v1"

// GetDerived returns the data stored under key, or false when there is none or
// it is damaged (a damaged entry is removed). Keys should be derived from the
// inputs (e.g. "packages-<sha256 of the index>") so a hit is always current.
func (c *Cache) GetDerived(key string) ([]byte, bool) {
	p, err := c.derivedPath(key)
	if err != nil {
		return nil, false
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	data, ok := decodeDerived(raw)
	if !ok {
		os.Remove(p)
		return nil, false
	}
	return data, true
}

// PutDerived stores data under key atomically. Keys are slash-separated
// relative paths of letters, digits and ._+=@,- (no "." or ".." elements).
func (c *Cache) PutDerived(key string, data []byte) error {
	p, err := c.derivedPath(key)
	if err != nil {
		return fmt.Errorf("cache put derived: %w", err)
	}
	tmp, err := c.createTemp("derived-")
	if err != nil {
		return fmt.Errorf("cache put derived %s: %w", key, err)
	}
	if _, err := tmp.Write(encodeDerivedHeader(data)); err != nil {
		discard(tmp)
		return fmt.Errorf("cache put derived %s: %w", key, err)
	}
	if _, err := tmp.Write(data); err != nil {
		discard(tmp)
		return fmt.Errorf("cache put derived %s: %w", key, err)
	}
	if err := c.commit(tmp, p, false); err != nil {
		return fmt.Errorf("cache put derived %s: %w", key, err)
	}
	return nil
}

func encodeDerivedHeader(data []byte) []byte {
	sum := sha256.Sum256(data)
	return fmt.Appendf(nil, "%s %s %d\n", derivedMagic, hex.EncodeToString(sum[:]), len(data))
}

func decodeDerived(raw []byte) ([]byte, bool) {
	line, data, ok := bytes.Cut(raw, []byte{'\n'})
	if !ok {
		return nil, false
	}
	f := strings.Fields(string(line))
	if len(f) != 3 || f[0] != derivedMagic {
		return nil, false
	}
	n, err := strconv.Atoi(f[2])
	if err != nil || n != len(data) {
		return nil, false
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != f[1] {
		return nil, false
	}
	return data, true
}

func (c *Cache) derivedPath(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return filepath.Join(c.derivedDir(), filepath.FromSlash(key)), nil
}

// checkKey keeps keys inside derived/ and portable across filesystems.
func checkKey(key string) error {
	if key == "" || len(key) > 255 {
		return fmt.Errorf("invalid derived key %q: want 1 to 255 characters", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("invalid derived key %q: empty, \".\" or \"..\" path element", key)
		}
		for _, r := range seg {
			ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
				strings.ContainsRune("._+=@,-", r)
			if !ok {
				return fmt.Errorf("invalid derived key %q: character %q not allowed", key, r)
			}
		}
	}
	return nil
}
