package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// MigratedFile is the migrated Dockerfile `migrate --build` writes beside the original, which
// it leaves as it is so that the migration can be run again.
const MigratedFile = "Dockerfile.spartan"

// BuildOptions configure `spartan migrate --build`.
type BuildOptions struct {
	Options
	Dockerfile string // the Dockerfile; its directory is the build context
	Tag        string // the application image's tag
	// Engine is podman or docker; "" picks whichever is installed, podman first.
	Engine string
	// Runtime is podman's OCI runtime for the build's RUN steps (runc where crun cannot
	// run); "" leaves the engine's default.
	Runtime string
	// BuildBase builds the custom base spec into a docker-archive for `load -i`: Spartan's
	// own build, given by the caller so that this package needs no archive access.
	BuildBase func(ctx context.Context, specPath, archive string) error
	Log       io.Writer // the engine's output
}

// ProblemsError is a migration that left instructions it could not rewrite.
type ProblemsError struct {
	File     string
	Problems []Warning
}

func (e *ProblemsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d instruction(s) cannot be migrated:", e.File, len(e.Problems))
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s:%d: %s", e.File, p.Line, p.Message)
	}
	return b.String()
}

// Build migrates the Dockerfile, writes Dockerfile.spartan and the custom base spec beside
// it, builds the custom base with Spartan, loads it into the container engine and builds the
// application image from the migrated Dockerfile. Problems stop it before anything is built.
func Build(ctx context.Context, o BuildOptions) (Result, error) {
	if o.Tag == "" {
		return Result{}, errors.New("migrate --build: give the application image a tag (-t NAME)")
	}
	r, mode, err := read(o.Dockerfile, o.Options)
	if err != nil {
		return r, err
	}
	if len(r.Problems) > 0 {
		return r, &ProblemsError{File: o.Dockerfile, Problems: r.Problems}
	}
	engine, err := pickEngine(o.Engine)
	if err != nil {
		return r, err
	}
	dir := filepath.Dir(o.Dockerfile)
	out := filepath.Join(dir, MigratedFile)
	if err := writeFiles(out, mode, r); err != nil {
		return r, err
	}
	if r.Base != nil {
		if o.BuildBase == nil {
			return r, errors.New("migrate --build: no way to build the custom base")
		}
		tmp, err := os.MkdirTemp("", "spartan-migrate-")
		if err != nil {
			return r, err
		}
		defer os.RemoveAll(tmp)
		archive := filepath.Join(tmp, "base.tar")
		spec := filepath.Join(dir, SpecFile)
		if err := o.BuildBase(ctx, spec, archive); err != nil {
			return r, fmt.Errorf("build custom base %s: %w", spec, err)
		}
		if err := runEngine(ctx, o.Log, engine, "load", "-i", archive); err != nil {
			return r, fmt.Errorf("load custom base %s into %s: %w", r.Base.Tag, engine, err)
		}
	}
	args := []string{"build", "-f", out, "-t", o.Tag}
	if filepath.Base(engine) == "podman" {
		// docker format keeps HEALTHCHECK (OCI image configs have no field for it); the
		// Spartan images are local, never pulled.
		args = append(args, "--format", "docker", "--pull=never")
		if o.Runtime != "" {
			args = append(args, "--runtime", o.Runtime)
		}
	}
	if err := runEngine(ctx, o.Log, engine, append(args, dir)...); err != nil {
		return r, fmt.Errorf("build %s from %s (the Spartan images it uses must be loaded: spartan build images/NAME --archive x.tar, then %s load -i x.tar): %w", o.Tag, out, engine, err)
	}
	return r, nil
}

func pickEngine(name string) (string, error) {
	names := []string{"podman", "docker"}
	if name != "" {
		names = []string{name}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("migrate --build needs a container engine: install %s", strings.Join(names, " or "))
}

func runEngine(ctx context.Context, log io.Writer, engine string, args ...string) error {
	cmd := exec.CommandContext(ctx, engine, args...)
	var errb bytes.Buffer
	cmd.Stdout = log
	cmd.Stderr = io.MultiWriter(log, &errb)
	if log == nil {
		cmd.Stdout, cmd.Stderr = nil, &errb
	}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = msg[i+1:]
		}
		return fmt.Errorf("%s %s: %w: %s", filepath.Base(engine), args[0], err, msg)
	}
	return nil
}
