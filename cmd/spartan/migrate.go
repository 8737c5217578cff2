package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/migrate"
	"github.com/spartan-images/spartan/internal/publish"
	"github.com/spartan-images/spartan/internal/spec"
)

// indexSpec is the release the catalog images are built from, for checking package names.
const indexSpec = "name: migrate-index\nrelease: trixie\npackages: [base-files]\n"

func newMigrateCmd(g *globals) *cobra.Command {
	var write, doBuild, noCheck bool
	var tag, engine, runtime string
	cmd := &cobra.Command{
		Use:   "migrate [DIR|DOCKERFILE]",
		Short: "Rewrite a Dockerfile for Spartan's shell-less images, and optionally build it",
		Long: `Migrate maps the FROM lines of common official images (python, node, eclipse-temurin and
openjdk, nginx, debian, distroless) to Spartan's: build stages get the -dev image, the final
stage the runtime image. golang build stages stay; a final stage that only runs a
CGO_ENABLED=0 Go binary gets spartan/static.

What the final stage does that needs a shell or a package manager is rewritten:
apt-get install becomes a custom base spec (spartan-base.yaml, package names checked against
Debian trixie, renames such as libssl3 → libssl3t64 translated); pip, npm and bundle
installs move to a -deps build stage whose result is copied; useradd, chown and mkdir become
USER 65532, COPY --chown and directories in the spec; shell-form and sh -c commands become
exec form; curl and wget HEALTHCHECKs become the image's probe. What cannot be rewritten is
listed with its line and the command exits with status 1.

It prints a unified diff on standard output, notes on standard error. --write replaces the
Dockerfile (and writes spartan-base.yaml) when every instruction could be migrated, and
leaves it unchanged otherwise. --build writes Dockerfile.spartan beside the Dockerfile, builds the custom base with Spartan, loads it into podman or docker and builds
the application image (-t TAG) in docker format so its HEALTHCHECK is kept; the Spartan
catalog images the Dockerfile uses must already be loaded.`,
		Example: `  spartan migrate                        # ./Dockerfile: show the diff and notes
  spartan migrate app/Dockerfile --write # apply it
  spartan migrate --build -t myapp app   # migrate and build app/Dockerfile`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			df := "."
			if len(args) == 1 {
				df = args[0]
			}
			if fi, err := os.Stat(df); err == nil && fi.IsDir() {
				df = filepath.Join(df, "Dockerfile")
			}
			o := migrate.Options{}
			if !noCheck {
				ix, err := g.packageIndex(cmd.Context())
				if err != nil {
					return fmt.Errorf("load Debian's package index to check apt-get names (--no-check skips it): %w", err)
				}
				o.Index = ix
			}
			var r migrate.Result
			var err error
			if doBuild {
				r, err = migrate.Build(cmd.Context(), migrate.BuildOptions{Options: o, Dockerfile: df, Tag: tag,
					Engine: engine, Runtime: runtime, BuildBase: g.buildBase, Log: cmd.ErrOrStderr()})
			} else {
				r, err = migrate.File(df, o, write)
			}
			if r.Original != "" {
				fmt.Fprint(cmd.OutOrStdout(), r.Diff(df)+r.SpecDiff(df))
			}
			errw := cmd.ErrOrStderr()
			for _, w := range r.Warnings {
				fmt.Fprintf(errw, "%s:%d: warning: %s\n", df, w.Line, w.Message)
			}
			var pe *migrate.ProblemsError
			if errors.As(err, &pe) || err == nil && len(r.Problems) > 0 {
				if write {
					fmt.Fprintf(errw, "%s: not written: fix the instructions below and run again (the Dockerfile is unchanged)\n", df)
				}
				return &migrate.ProblemsError{File: df, Problems: r.Problems}
			}
			if err != nil {
				return err
			}
			switch {
			case len(r.Changes) == 0:
				fmt.Fprintf(errw, "%s: nothing to migrate\n", df)
			case doBuild:
				fmt.Fprintf(errw, "%s: migrated to %s and built %s\n", df, filepath.Join(filepath.Dir(df), migrate.MigratedFile), tag)
			case write:
				fmt.Fprintf(errw, "%s: %d instruction(s) migrated\n", df, len(r.Changes))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&write, "write", false, "replace the Dockerfile with the migrated one (and write spartan-base.yaml beside it)")
	f.BoolVar(&doBuild, "build", false, "write Dockerfile.spartan, build the custom base and the application image")
	f.StringVarP(&tag, "tag", "t", "", "with --build: the application image's tag")
	f.StringVar(&engine, "engine", "", "with --build: podman or docker (default: whichever is installed, podman first)")
	f.StringVar(&runtime, "runtime", "", "with --build and podman: the OCI runtime for RUN steps (e.g. runc)")
	f.BoolVar(&noCheck, "no-check", false, "do not check apt-get package names against the Debian archive (offline)")
	return cmd
}

// packageIndex loads the names of the release the catalog images are built from.
func (g *globals) packageIndex(ctx context.Context) (*migrate.Index, error) {
	s, err := spec.Parse("migrate", []byte(indexSpec))
	if err != nil {
		return nil, err
	}
	o, err := g.optionsFor(s, "")
	if err != nil {
		return nil, err
	}
	pkgs, err := build.Packages(ctx, o, "amd64")
	if err != nil {
		return nil, err
	}
	return migrate.NewIndex(s.Release, pkgs), nil
}

// buildBase builds a custom base spec into a docker-archive, as spartan build --archive does.
func (g *globals) buildBase(ctx context.Context, specPath, archive string) error {
	o, err := g.options(specPath, "", "amd64")
	if err != nil {
		return err
	}
	b := publish.Built{Options: o, Started: time.Now()}
	if b.Output, err = build.Build(ctx, o); err != nil {
		return err
	}
	b.Finished = time.Now()
	_, err = publish.Publish(ctx, b, publish.Options{Archive: archive, Log: os.Stderr})
	return err
}
