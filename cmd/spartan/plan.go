package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/plan"
	"github.com/spartan-images/spartan/internal/publish"
	"github.com/spartan-images/spartan/internal/registry"
)

// planFlags are the flags plan and index share: what to plan and where the images go.
type planFlags struct {
	registry        string
	variants, archs []string
}

func (f *planFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.registry, "registry", "", "registry (host[/path]) the images go to; each image's repository is <registry>/<repository of its first tag>")
	fl.StringSliceVar(&f.variants, "variant", nil, "plan only these variants (runtime, dev, debug…); repeatable")
	fl.StringSliceVar(&f.archs, "arch", nil, "plan only these architectures; repeatable")
}

func (f *planFlags) plan(g *globals, specs []string) (*plan.Plan, error) {
	mirrors, err := build.ResolveMirrors(g.mirror, g.securityMirror, g.aptDir)
	if err != nil {
		return nil, err
	}
	epoch, err := sourceDateEpoch()
	if err != nil {
		return nil, err
	}
	return plan.New(plan.Options{Specs: specs, Registry: f.registry, Version: version, Mirrors: mirrors, Epoch: epoch,
		Variants: f.variants, Archs: f.archs})
}

func newPlanCmd(g *globals) *cobra.Command {
	var pf planFlags
	var format string
	var level int
	var noCheck, pending bool
	var changed []string
	cmd := &cobra.Command{
		Use:   "plan [SPECS…]",
		Short: "Split a catalog into work units (image × variant × arch) for a CI engine, with what the registry already holds",
		Long: `Plan lists the work units of the specs (spec files, image folders, or a folder of image
folders such as images/): one per image, variant and architecture, each with a key hashed
from everything that decides its bytes (the spec and the specs it extends, the variant's lock
for that architecture, Spartan's version, SOURCE_DATE_EPOCH, the mirror for dev variants).
A unit is run with 'spartan build --locked --skip-existing --variant V --arch A --push REF SPEC',
which pushes it under <repository>:key-<key>; 'spartan index' then stitches an image's
architectures into its index, signs it and tags it. The registry is the only shared state:
plan asks it (HEAD, nothing downloaded) which keys it already holds.

Formats: text (a table), json (the whole plan), github (lines for $GITHUB_OUTPUT: units and
indexes as strategy.matrix JSON, and their counts), gitlab (hidden jobs .spartan-units and
.spartan-indexes with parallel:matrix, to include and extend), refs (each unit's REF, one a
line, for a job that knows its spec, variant and architecture).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := pf.plan(g, args)
			if err != nil {
				return err
			}
			if len(changed) > 0 {
				p = p.Affected(changed)
			}
			if !noCheck && format != "refs" && pf.registry != "" {
				if err := p.Check(cmd.Context(), plan.Remote{Client: registry.New("spartan/" + version)}); err != nil {
					return err
				}
			}
			if pending {
				if !p.Checked {
					return fmt.Errorf("--pending needs the registry checked: pass --registry, without --no-check")
				}
				p = p.Pending()
			}
			return p.Write(cmd.OutOrStdout(), format, level)
		},
	}
	pf.add(cmd)
	f := cmd.Flags()
	f.StringVarP(&format, "format", "o", "text", "text, json, github, gitlab or refs")
	f.IntVar(&level, "level", -1, "with github/gitlab: only the units and indexes at this level of the order (0 first); all when -1")
	f.BoolVar(&noCheck, "no-check", false, "do not ask the registry which units are done")
	f.BoolVar(&pending, "pending", false, "leave out what the registry already holds")
	f.StringSliceVar(&changed, "changed-source", nil, "only units whose locks hold this source package (a mirror update moved it); repeatable")
	return cmd
}

func newIndexCmd(g *globals) *cobra.Command {
	var pf planFlags
	var signKey string
	cmd := &cobra.Command{
		Use:   "index SPEC",
		Short: "Stitch an image's per-architecture units, built on different workers, into its index; sign and tag it",
		Long: `Index is the final step of a planned build (see 'spartan plan'): it reads the units of
SPEC's variant from the registry by their keys, makes the index a single build of all the
architectures makes (same digest), pushes it under the spec's tags in --registry, signs the
index and its images with --sign-key, and tags the index's key last. When that key is
already tagged nothing is done; when a unit is missing it fails, naming it. The digest is
the last line of standard output.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(pf.variants) > 1 {
				return fmt.Errorf("--variant: index stitches one variant at a time")
			}
			c := registry.New("spartan/" + version)
			o := plan.StitchOptions{Client: c, Log: cmd.ErrOrStderr()}
			if signKey != "" {
				k, err := publish.LoadKey(signKey)
				if err != nil {
					return err
				}
				o.Signer = k
			}
			if len(pf.variants) == 0 {
				pf.variants = []string{"runtime"}
			}
			p, err := pf.plan(g, args)
			if err != nil {
				return err
			}
			if len(p.Indexes) != 1 {
				return fmt.Errorf("%s: %d indexes planned, want one", args[0], len(p.Indexes))
			}
			res, err := p.Stitch(cmd.Context(), p.Indexes[0], o)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), res.Digest)
			return err
		},
	}
	pf.add(cmd)
	cmd.Flags().StringVar(&signKey, "sign-key", "", "sign the index and its images with this cosign private key")
	return cmd
}
