package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// staleTemp is how old a temp file must be before Verify deletes it. Younger
// ones may belong to a build running right now in another process.
const staleTemp = 24 * time.Hour

// VerifyReport says what Verify looked at and what it threw away.
type VerifyReport struct {
	Blobs   int      // blobs re-hashed
	Bytes   int64    // bytes re-hashed
	Derived int      // derived entries checked
	Removed []string // paths removed: damaged blobs and entries, strays, stale temp files
}

// Verify re-hashes every blob and checks every derived entry, removing those
// that no longer match, plus stray files and temp files older than a day. It is
// safe to run while builds use the cache: a removed blob is downloaded again.
func (c *Cache) Verify(ctx context.Context) (VerifyReport, error) {
	var rep VerifyReport
	if err := c.verifyBlobs(ctx, &rep); err != nil {
		return rep, err
	}
	if err := c.verifyDerived(ctx, &rep); err != nil {
		return rep, err
	}
	if err := c.cleanTemp(ctx, &rep); err != nil {
		return rep, err
	}
	return rep, nil
}

func (c *Cache) verifyBlobs(ctx context.Context, rep *VerifyReport) error {
	entries, err := os.ReadDir(c.blobDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("verify cache %s: %w", c.Dir, err)
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("verify cache %s: %w", c.Dir, err)
		}
		p := filepath.Join(c.blobDir(), e.Name())
		want, herr := normHex(e.Name())
		if herr != nil || want != e.Name() || !e.Type().IsRegular() {
			// Not something Put writes; a directory is left alone because
			// removing a tree we did not create is too bold.
			if e.Type().IsRegular() || e.Type()&fs.ModeSymlink != 0 {
				if err := remove(p, rep); err != nil {
					return err
				}
			}
			continue
		}
		got, n, hashed, err := hashFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue // removed by someone else meanwhile
		}
		if err != nil {
			return fmt.Errorf("verify blob %s: %w", p, err)
		}
		rep.Blobs++
		rep.Bytes += n
		if got != want && unchanged(p, hashed) {
			if err := remove(p, rep); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Cache) verifyDerived(ctx context.Context, rep *VerifyReport) error {
	root := c.derivedDir()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		raw, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		rep.Derived++
		if _, ok := decodeDerived(raw); !ok {
			return remove(p, rep)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("verify derived entries in %s: %w", root, err)
	}
	return nil
}

func (c *Cache) cleanTemp(ctx context.Context, rep *VerifyReport) error {
	entries, err := os.ReadDir(c.tmpDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("clean cache temp files in %s: %w", c.tmpDir(), err)
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("clean cache temp files: %w", err)
		}
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || time.Since(info.ModTime()) < staleTemp {
			continue
		}
		if err := remove(filepath.Join(c.tmpDir(), e.Name()), rep); err != nil {
			return err
		}
	}
	return nil
}

func remove(p string, rep *VerifyReport) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove damaged cache file %s: %w", p, err)
	}
	rep.Removed = append(rep.Removed, p)
	return nil
}

// hashFile also returns the identity of the file it hashed, so a damaged blob
// that a concurrent Put has just replaced by a good copy is not removed.
func hashFile(p string) (string, int64, os.FileInfo, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", 0, nil, err
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", n, nil, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, st, nil
}

func unchanged(p string, hashed os.FileInfo) bool {
	st, err := os.Stat(p)
	return err == nil && os.SameFile(st, hashed)
}
