package migrate

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spartan-images/spartan/internal/atomicfile"
)

// SpecFile is the custom base spec migration writes next to the Dockerfile.
const SpecFile = "spartan-base.yaml"

// File migrates the Dockerfile at path; with write it also replaces the file (atomically,
// keeping its permissions) when anything changed, and writes the custom base spec beside it.
func File(path string, o Options, write bool) (Result, error) {
	r, mode, err := read(path, o)
	if err != nil {
		return r, err
	}
	// A Dockerfile with instructions left that cannot run on the shell-less image would not
	// build either way: it stays as it was (still valid on its original images) until they
	// are fixed, rather than half migrated.
	if write && len(r.Changes) > 0 && len(r.Problems) == 0 {
		if err := writeFiles(path, mode, r); err != nil {
			return r, err
		}
	}
	return r, nil
}

func read(path string, o Options) (Result, os.FileMode, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Result{}, 0, fmt.Errorf("read Dockerfile: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Result{}, 0, fmt.Errorf("read Dockerfile %s: not a regular file; give the Dockerfile's path", path)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return Result{}, 0, fmt.Errorf("read Dockerfile: %w", err)
	}
	abs, _ := filepath.Abs(path)
	if o.Name == "" {
		o.Name = filepath.Base(filepath.Dir(abs))
	}
	if o.Context == "" {
		o.Context = filepath.Dir(abs)
	}
	r, err := Dockerfile(string(src), o)
	if err != nil {
		return r, 0, fmt.Errorf("%s:%w", path, err)
	}
	return r, fi.Mode().Perm(), nil
}

// writeFiles writes the migrated Dockerfile to path and the custom base spec beside it, each
// to a temporary name renamed into place when complete.
func writeFiles(path string, mode os.FileMode, r Result) error {
	if r.Base != nil {
		spec := filepath.Join(filepath.Dir(path), SpecFile)
		if err := atomicfile.WriteBytes(spec, 0o644, r.Base.Spec(filepath.Base(path))); err != nil {
			return fmt.Errorf("write custom base spec: %w", err)
		}
	}
	if err := atomicfile.WriteBytes(path, mode, []byte(r.Migrated)); err != nil {
		return fmt.Errorf("write migrated Dockerfile: %w", err)
	}
	return nil
}
