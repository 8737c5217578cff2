package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/build"
)

func newLockCmd(g *globals) *cobra.Command {
	var variant, archs, output string
	cmd := &cobra.Command{
		Use:   "lock SPEC",
		Short: "Resolve a spec and pin the result (versions, SHA-256s, URIs, InRelease digests) in <spec dir>/spartan.lock.json",
		Long: `Lock resolves the spec against the signed indexes as build does and writes the
result beside the spec: spartan.lock.json (spartan.<variant>.lock.json for a variant).
'spartan build --locked' then builds exactly that set without resolving again.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := g.options(args[0], variant, archs)
			if err != nil {
				return err
			}
			plans, err := build.Resolve(cmd.Context(), o)
			if err != nil {
				return err
			}
			l, err := build.NewLock(o, plans)
			if err != nil {
				return err
			}
			path := output
			if path == "" {
				path = build.LockPath(o.Spec)
			}
			if err := build.WriteLock(path, l); err != nil {
				return err
			}
			for _, a := range l.Archs {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d packages from %d repositories\n", a.Arch, len(a.Packages), len(a.Releases))
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), path)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&variant, "variant", "", "variant of the spec to lock (default: the base, runtime)")
	f.StringVar(&archs, "arch", "", "comma-separated Debian architectures, overriding the spec")
	f.StringVarP(&output, "output", "o", "", "write the lock here instead of beside the spec")
	return cmd
}

// buildMaybeLocked builds from the spec's lock when locked is set, else resolves as usual.
func buildMaybeLocked(ctx context.Context, o build.Options, locked bool, lockFile string) (*build.Output, error) {
	if !locked && lockFile == "" {
		return build.Build(ctx, o)
	}
	path := lockFile
	if path == "" {
		path = build.LockPath(o.Spec)
	}
	l, err := build.ReadLock(path, o.Spec, build.LockStrict)
	if err != nil {
		return nil, err
	}
	return build.BuildLocked(ctx, o, l)
}
