package migrate

import (
	"fmt"
	"os"

	"github.com/spartan-images/spartan/internal/atomicfile"
)

// File migrates the Dockerfile at path; with write it also replaces the file (atomically,
// keeping its permissions) when anything changed.
func File(path string, write bool) (Result, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Result{}, fmt.Errorf("read Dockerfile: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Result{}, fmt.Errorf("read Dockerfile %s: not a regular file; give the Dockerfile's path", path)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return Result{}, fmt.Errorf("read Dockerfile: %w", err)
	}
	r := Dockerfile(string(src))
	if write && len(r.Changes) > 0 {
		if err := atomicfile.WriteBytes(path, fi.Mode().Perm(), []byte(r.Migrated)); err != nil {
			return r, fmt.Errorf("write migrated Dockerfile: %w", err)
		}
	}
	return r, nil
}
