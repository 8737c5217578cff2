package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spartan-images/spartan/internal/spec"
)

// catalogPrefix is how spec names a base from the embedded catalog (base: python) in File.
const catalogPrefix = "catalog:"

// bases are the specs s extends, nearest first.
func bases(s *spec.Spec) []*spec.Spec {
	var out []*spec.Spec
	for b := s.Base; b != nil; b = b.Base {
		out = append(out, b)
	}
	return out
}

// baseKey is how a unit finds the unit of its base: the base's spec file, or for a catalog
// base (base: python) the image name, matched against the planned images' names.
func baseKey(b *spec.Spec) string {
	if name, ok := strings.CutPrefix(b.File, catalogPrefix); ok {
		return catalogPrefix + name
	}
	return b.File
}

// treeDigest hashes a file, or a directory's tree (names, kinds, permission bits, contents,
// link targets), for the application files a spec copies into the image.
func treeDigest(root string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%o\x00", filepath.ToSlash(rel), info.Mode())
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			io.WriteString(h, target)
		case info.Mode().IsRegular():
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
		}
		h.Write([]byte{0})
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", root, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
