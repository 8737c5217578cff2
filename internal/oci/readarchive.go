package oci

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ArchiveIsOCI tells an oci-archive (a tar of an OCI layout: oci-layout + index.json) from a
// docker-archive (manifest.json), the two files `spartan build --archive` writes.
func ArchiveIsOCI(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	docker := false
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return false, fmt.Errorf("read archive %s: %w", path, err)
		}
		switch strings.TrimPrefix(h.Name, "./") {
		case "oci-layout":
			return true, nil
		case "manifest.json":
			docker = true
		}
	}
	if !docker {
		return false, fmt.Errorf("%s is neither an oci-archive (no oci-layout) nor a docker-archive (no manifest.json)", path)
	}
	return false, nil
}

// UnpackArchive unpacks an oci-archive into a new temporary directory, which cleanup removes.
// Only regular files and directories are written, and names that would land outside the
// directory are refused.
func UnpackArchive(path string) (dir string, cleanup func(), err error) {
	dir, err = os.MkdirTemp("", "spartan-oci-archive-*")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	if err := unpackInto(path, dir); err != nil {
		cleanup()
		return "", nil, err
	}
	return dir, cleanup, nil
}

func unpackInto(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read archive %s: %w", path, err)
		}
		name := filepath.Clean(strings.TrimPrefix(h.Name, "./"))
		if !filepath.IsLocal(name) {
			return fmt.Errorf("archive %s: entry %q leaves the archive", path, h.Name)
		}
		dst := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, tr)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("archive %s: %s: %w", path, h.Name, err)
			}
		}
	}
}
