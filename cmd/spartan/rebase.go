package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/publish"
	"github.com/spartan-images/spartan/internal/rebase"
	"github.com/spartan-images/spartan/internal/registry"
	"github.com/spartan-images/spartan/internal/timeline"
	"github.com/spartan-images/spartan/internal/update"
)

func newRebaseCmd(g *globals) *cobra.Command {
	var o rebase.Options
	var signKey, timelineFile string
	cmd := &cobra.Command{
		Use:   "rebase APP --onto NEWBASE [--old-base OLDBASE] [--to REF] [--sign-key KEY]",
		Short: "Move an application image onto a rebuilt base without rebuilding it, signed, with SBOMs and provenance",
		Long: `Rebase replaces the layers of the base APP was built FROM with NEWBASE's, keeps APP's own
layers byte for byte, and re-stitches the config: diff_ids and history, and whatever APP
inherited from the old base (environment variables, labels, user, working directory,
entrypoint and command it did not set itself) takes NEWBASE's value. An index is rebased
platform by platform onto NEWBASE's image of the same platform.

The old base is --old-base, else the first image APP is built on (its layers the bottom of
APP's) among those APP's org.opencontainers.image.base.name and .base.digest annotations
name — the name pinned to the digest, the digest in NEWBASE's repository, the name — and the
pushes to those repositories the timeline recorded (docs/rebase.md). Rebase refuses, saying why, when APP's bottom layers are not exactly
the old base's, when one of its own layers changes the Debian package database (packages
installed on top were resolved against the old base), or when NEWBASE is another platform.

The result goes to --to (a registry reference, or oci:DIR / a path for an OCI layout; default:
APP when it is a registry reference), signed with --sign-key along with its SPDX and
CycloneDX SBOMs (read back from the result) and a SLSA provenance naming APP, the old and the
new base by digest. The timeline records the rebase with the CVE fixes it carried from the
base's rebuilds by spartan update (spartan timeline APP). The new digest is the last line of
standard output.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.App = args[0]
			if o.Onto == "" {
				return errors.New("--onto NEWBASE is required: the base image to move the application onto")
			}
			o.Client, o.Version, o.Log = registry.New("spartan/"+version), version, cmd.ErrOrStderr()
			if signKey != "" {
				k, err := publish.LoadKey(signKey)
				if err != nil {
					return err
				}
				o.Signer = k
			}
			tl := g.timelinePath(timelineFile)
			history, err := timeline.Read(tl)
			if err != nil {
				return err
			}
			o.Pushed = rebase.Pushed(history, "", "")
			start := time.Now()
			res, err := rebase.Rebase(cmd.Context(), o)
			if err != nil {
				return fmt.Errorf("rebase %s: %w", o.App, err)
			}
			stderr := cmd.ErrOrStderr()
			fmt.Fprintf(stderr, "rebased %s from %s onto %s in %s\n", o.App, res.OldBase, res.NewBase, time.Since(start).Round(time.Millisecond))
			for _, p := range res.Platforms {
				fmt.Fprintf(stderr, "  %s %s: %d base layers, %d application layers kept: %s\n", p.Platform, p.Digest,
					len(p.Base), len(p.App), strings.Join(p.App, " "))
			}
			events, err := rebase.Record(tl, update.RunID(time.Now()), o.App, res)
			if err != nil {
				return err
			}
			carried := 0
			for _, e := range events {
				if e.Event == timeline.Fixed {
					carried++
				}
			}
			fmt.Fprintf(stderr, "the rebase carried %d CVE fixes the timeline knows of (spartan timeline %s)\n", carried, o.App)
			_, err = fmt.Fprintln(cmd.OutOrStdout(), res.Digest)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Onto, "onto", "", "the new base image (registry reference, oci:DIR, archive)")
	f.StringVar(&o.OldBase, "old-base", "", "the base APP was built on (default: APP's org.opencontainers.image.base.* annotations)")
	f.StringVar(&o.To, "to", "", "where the rebased image goes: a registry reference, or oci:DIR (default: APP, when it is a registry reference)")
	f.StringVar(&signKey, "sign-key", "", "sign the result with this cosign key and attach its SBOMs and provenance")
	f.StringVar(&timelineFile, "timeline", "", "timeline file to append to (default <cache dir>/"+timeline.DefaultFile+")")
	return cmd
}
