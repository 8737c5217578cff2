package oci

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// replaceDir builds a new directory with build in a temporary sibling of dir
// and then swaps it in. A directory cannot be renamed over a non-empty one,
// so an existing dir is first moved aside and restored if the swap fails:
// at every moment dir is either the old tree or the complete new one.
func replaceDir(dir string, replaceable func(string) error, build func(tmp string) error) (err error) {
	dir = filepath.Clean(dir)
	parent, base := filepath.Dir(dir), filepath.Base(dir)
	exists := false
	switch fi, err := os.Lstat(dir); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("write %s: %w", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("write %s: exists and is not a directory; remove it or choose another path", dir)
	default:
		if err := replaceable(dir); err != nil {
			return err
		}
		exists = true
	}

	tmp, err := os.MkdirTemp(parent, base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := build(tmp); err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	// MkdirTemp makes 0700 directories; a layout is meant to be shared.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	if !exists {
		if err := os.Rename(tmp, dir); err != nil {
			return fmt.Errorf("write %s: %w", dir, err)
		}
		return nil
	}

	hold, err := os.MkdirTemp(parent, base+".old-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	old := filepath.Join(hold, base)
	if err := os.Rename(dir, old); err != nil {
		os.Remove(hold)
		return fmt.Errorf("write %s: move the previous one aside: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if rerr := os.Rename(old, dir); rerr != nil {
			return fmt.Errorf("write %s: %w; the previous one is kept at %s (restoring it failed: %v)", dir, err, old, rerr)
		}
		os.Remove(hold)
		return fmt.Errorf("write %s: %w", dir, err)
	}
	if err := os.RemoveAll(hold); err != nil {
		return fmt.Errorf("wrote %s but could not remove the previous one at %s: %w", dir, hold, err)
	}
	return nil
}
