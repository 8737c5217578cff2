package cache

import (
	"errors"
	"os"
	"path/filepath"
)

// createTemp opens a fresh file in Dir/tmp. Temp files live inside the cache,
// not in os.TempDir, so the final rename never crosses filesystems.
func (c *Cache) createTemp(prefix string) (*os.File, error) {
	f, err := os.CreateTemp(c.tmpDir(), prefix+"*")
	if errors.Is(err, os.ErrNotExist) {
		// Someone cleaned the cache while we run; recreate the layout.
		if err := os.MkdirAll(c.tmpDir(), 0o755); err != nil {
			return nil, err
		}
		f, err = os.CreateTemp(c.tmpDir(), prefix+"*")
	}
	return f, err
}

// commit makes a fully written temp file visible at dest. The data is synced
// first so a crash cannot leave a named but empty file behind. contentAddressed
// says that any existing dest holds the same bytes.
func (c *Cache) commit(tmp *os.File, dest string, contentAddressed bool) error {
	name := tmp.Name()
	err := tmp.Chmod(0o644) // CreateTemp makes 0600; cached files are not secret
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.MkdirAll(filepath.Dir(dest), 0o755)
	}
	if err != nil {
		os.Remove(name)
		return err
	}
	if err := os.Rename(name, dest); err != nil {
		os.Remove(name)
		// Where rename cannot replace a file that is open (Windows), a
		// concurrent writer that got there first has stored the same bytes;
		// that is success.
		if st, serr := os.Stat(dest); contentAddressed && serr == nil && st.Mode().IsRegular() {
			return nil
		}
		return err
	}
	return nil
}

// discard drops a temp file that must not reach the cache.
func discard(tmp *os.File) {
	tmp.Close()
	os.Remove(tmp.Name())
}
